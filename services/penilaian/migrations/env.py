from kinerja.migrations import run_env
from penilaian.adapters.orm import metadata

run_env(metadata)
