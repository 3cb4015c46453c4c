"""gunicorn settings (``-c``) that profile a worker's every thread (``bench/web_cpu.py --profile``):
the main thread (accepting, polling kept-alive connections) from the worker's start, each pool
thread while it serves a connection (``ThreadWorker.handle``), all with ``time.thread_time`` so a
thread waiting for the database or the GIL is not charged. At the worker's exit the profiles are
merged into ``$KINERJA_PROFILE_DIR/web-<pid>.pstats``."""
import cProfile
import os
import pstats
import threading
import time

_local = threading.local()
_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()


def post_worker_init(worker):
    from gunicorn.workers import gthread

    from kinerja.gc_tuning import tune_gc

    tune_gc()  # as kinerja.gunicorn_hooks does for every web worker

    handle = gthread.ThreadWorker.handle

    def profiled(self, conn):
        profile = getattr(_local, "profile", None)
        if profile is None:
            profile = _local.profile = cProfile.Profile(time.thread_time)
            with _lock:
                _profiles.append(profile)
        profile.enable()
        try:
            return handle(self, conn)
        finally:
            profile.disable()

    gthread.ThreadWorker.handle = profiled
    main = cProfile.Profile(time.thread_time)
    _profiles.append(main)
    main.enable()


def worker_exit(server, worker):
    _profiles[0].disable()
    stats = pstats.Stats(_profiles[0])
    for profile in _profiles[1:]:
        stats.add(profile)
    stats.dump_stats(os.path.join(os.environ["KINERJA_PROFILE_DIR"], f"web-{os.getpid()}.pstats"))
