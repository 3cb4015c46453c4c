"""The ``kinerja`` operator command."""
