"""kehadiran: the attendance service."""
