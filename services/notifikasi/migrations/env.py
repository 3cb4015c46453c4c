from notifikasi.adapters.orm import metadata
from kinerja.migrations import run_env

run_env(metadata)
