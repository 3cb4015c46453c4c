"""One way to build a service's Flask app and one way for a view to reach the service's runtime.

Each service's ``entrypoints/app.py`` calls :func:`create_service_app` with its blueprints; a view
calls :func:`current_runtime` instead of reading ``current_app.extensions`` itself."""
from __future__ import annotations

from types import FunctionType
from typing import Any, Callable, Iterable, Mapping, TypeVar, cast

from flask import Blueprint, Flask, current_app
from flask_smorest import Api

from kinerja.config import Settings, load_settings
from kinerja.health import health_blueprint
from kinerja.logging import configure_logging
from kinerja.runtime import ServiceRuntime
from kinerja.web import configure_app

RUNTIME_EXTENSION = "kinerja_runtime"

R = TypeVar("R", bound=ServiceRuntime)


class ServiceFlask(Flask):
    """Flask, remembering which plain functions are synchronous: Flask asks ``ensure_sync`` of
    every hook and view on every request (``inspect.iscoroutinefunction``, a dozen times a
    request: a few percent of a one-punch request's CPU). A function's answer never changes, so
    a sync one is handed back from the table; async ones and bound methods are asked each time
    as before."""

    SYNC_TABLE_MAX = 4096  # per-request closures (after_this_request) are plain functions too

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_functions: dict[Callable[..., Any], bool] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if type(func) is not FunctionType:
            return super().ensure_sync(func)
        if func in self._sync_functions:
            return func
        wrapped = super().ensure_sync(func)
        if wrapped is func:
            if len(self._sync_functions) >= self.SYNC_TABLE_MAX:
                self._sync_functions.clear()
            self._sync_functions[func] = True
        return wrapped


def bind_runtime(app: Flask, runtime: ServiceRuntime) -> None:
    app.extensions[RUNTIME_EXTENSION] = runtime


def runtime_of(app: Flask, kind: type[R] = ServiceRuntime) -> R:  # type: ignore[assignment]
    """The runtime bound to ``app`` (tests and gunicorn hooks hold the app, not a request)."""
    runtime = app.extensions[RUNTIME_EXTENSION]
    if not isinstance(runtime, kind):
        raise TypeError(f"the app's runtime is a {type(runtime).__name__}, not a {kind.__name__}")
    return cast(R, runtime)


def current_runtime(kind: type[R] = ServiceRuntime) -> R:  # type: ignore[assignment]
    """The runtime of the app handling the current request; ``kind`` narrows the type for a
    service whose runtime is a subclass (notifikasi's)."""
    return runtime_of(current_app, kind)


def create_service_app(service: str, import_name: str, *, title: str, make_runtime: Callable[[Settings], ServiceRuntime],
                       blueprints: Iterable[Blueprint], public_blueprints: Iterable[Blueprint] = (),
                       config: Mapping[str, Any] | None = None,
                       prepare: Callable[[Flask, Api, Settings], None] | None = None,
                       health: Callable[[ServiceRuntime, Settings], Blueprint] | None = None) -> Flask:
    """``import_name`` is the caller's ``__name__`` (Flask's root path). Settings read now (``config`` over the environment), logging, the shared plumbing of
    :func:`kinerja.web.configure_app`, the runtime bound to the app, ``/healthz`` + ``/readyz``,
    then ``blueprints`` (documented in OpenAPI) and ``public_blueprints`` (plain Flask: device
    protocol, static files) in the order given. ``prepare`` sets service-specific config and
    OpenAPI components before any blueprint is registered; ``health`` replaces the default
    health blueprint (database and Kafka)."""
    settings = load_settings(service, config)
    configure_logging(service)
    app = ServiceFlask(import_name)
    api = configure_app(app, settings, title=title)
    if prepare is not None:
        prepare(app, api, settings)
    runtime = make_runtime(settings)
    bind_runtime(app, runtime)
    app.register_blueprint(health(runtime, settings) if health is not None
                           else health_blueprint(lambda: runtime.engine, settings))
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    for blueprint in public_blueprints:
        app.register_blueprint(blueprint)
    return app
