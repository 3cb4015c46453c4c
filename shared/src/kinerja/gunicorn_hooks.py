"""gunicorn settings every web app's workers share (``gunicorn -c python:kinerja.gunicorn_hooks``,
as ``kinerja up`` starts them; the image's ``gunicorn.conf.py`` and notifikasi's own config take
the same hook): the garbage collector tuned once a worker has loaded the app
(``kinerja.gc_tuning``). After the fork, not before: the app is loaded in each worker."""
from __future__ import annotations


def post_worker_init(worker) -> None:
    from kinerja.gc_tuning import tune_gc

    tune_gc()
