"""Every table of kehadiran, imported together so the metadata is complete (Alembic, tests)."""
from kehadiran.adapters import calendar_orm, corrections_orm, leave_requests_orm, markers, orm  # noqa: F401
from kehadiran.adapters.orm import Base, metadata  # noqa: F401
