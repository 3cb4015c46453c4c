from kehadiran.adapters.tables import metadata
from kinerja.migrations import run_env

run_env(metadata)
