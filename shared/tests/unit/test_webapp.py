"""``create_service_app``: settings read when it is called, the runtime bound to the app and
reachable from a view through ``current_runtime`` (typed), health checks, then the service's
blueprints (OpenAPI-documented) and its public ones."""
from __future__ import annotations

import flask
import pytest
from flask_smorest import Blueprint

from sqlalchemy import MetaData

from kinerja.config import Settings
from kinerja.runtime import ServiceRuntime
from kinerja.webapp import create_service_app, current_runtime, runtime_of

pytestmark = pytest.mark.unit


class OtherRuntime(ServiceRuntime):
    pass


def _app(config=None, **kw):
    api_bp = Blueprint("things", __name__, url_prefix="/api/v1")
    public = flask.Blueprint("dashboard", __name__)  # a public blueprint name: no token needed

    @api_bp.route("/things")
    def things():
        return {"service": current_runtime().service}

    @public.get("/open")
    def open_():
        return {"database": current_runtime().settings.database_url, "seen": flask.current_app.config.get("SEEN")}

    def prepare(app, api, settings: Settings):
        app.config["SEEN"] = settings.service

    return create_service_app("tugas", __name__, title="T", config=config if config is not None else {"database_url": "sqlite://"},
                              make_runtime=lambda s: ServiceRuntime("tugas", MetaData(), s),
                              blueprints=[api_bp], public_blueprints=[public], prepare=prepare, **kw)


def test_the_runtime_is_bound_and_reached_from_a_view():
    app = _app()
    body = app.test_client().get("/open").get_json()
    assert body == {"database": "sqlite://", "seen": "tugas"}
    assert runtime_of(app).service == "tugas"
    assert app.test_client().get("/api/v1/things").status_code == 401  # documented APIs need a JWT
    assert "/api/v1/things" in app.test_client().get("/openapi.json").get_json()["paths"]
    assert app.test_client().get("/healthz").get_json() == {"status": "ok", "service": "tugas"}


def test_settings_are_read_when_the_app_is_made(monkeypatch):
    monkeypatch.setenv("TUGAS_DATABASE_URL", "sqlite:////tmp/elsewhere.db")
    assert runtime_of(_app(config={})).settings.database_url == "sqlite:////tmp/elsewhere.db"
    monkeypatch.setenv("TUGAS_DATABASE_URL", "sqlite:////tmp/later.db")
    assert runtime_of(_app(config={})).settings.database_url == "sqlite:////tmp/later.db"


def test_current_runtime_checks_the_kind_asked_for():
    app = _app()
    with app.app_context():
        assert isinstance(current_runtime(), ServiceRuntime)
        with pytest.raises(TypeError, match="not a OtherRuntime"):
            current_runtime(OtherRuntime)


def test_a_service_may_replace_the_health_checks():
    app = _app(health=lambda runtime, settings: flask.Blueprint("health", __name__))
    assert app.test_client().get("/healthz").status_code == 404
