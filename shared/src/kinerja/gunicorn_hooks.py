"""gunicorn settings every web app's workers share (``gunicorn -c python:kinerja.gunicorn_hooks``,
as ``kinerja up`` starts them; the image's ``gunicorn.conf.py`` and notifikasi's own config take
the same hook): the garbage collector tuned once a worker has loaded the app
(``kinerja.gc_tuning``). After the fork, not before: the app is loaded in each worker."""
from __future__ import annotations

# gunicorn 25.1+ opens a control socket at $HOME/.gunicorn/gunicorn.ctl by default: every web app of
# `kinerja up` would share that one path, and in the image $HOME (/app) is not writable, which logs a
# "Control server error" at each start. Nothing here uses `gunicornc`; workers are managed by
# signals (TTIN/TTOU/HUP/TERM) and the orchestrator. Older gunicorn ignores the unknown name.
control_socket_disable = True


def post_worker_init(worker) -> None:
    from kinerja.gc_tuning import tune_gc

    tune_gc()
