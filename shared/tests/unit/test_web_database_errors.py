"""A request whose database connection drops (restart, failover) answers 503 with the reason and
Retry-After, so the client sends it again; any other database error is still a 500."""
from __future__ import annotations

import pytest
from flask import Blueprint, Flask
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from kinerja.config import load_settings
from kinerja.web import configure_app

pytestmark = pytest.mark.unit


@pytest.fixture
def client():
    app = Flask(__name__)
    configure_app(app, load_settings("kehadiran", {"database_url": "sqlite://"}), title="t")
    bp = Blueprint("health", __name__)  # a public blueprint: no token needed here

    @bp.post("/refused")
    def refused():
        raise OperationalError("INSERT ...", {}, Exception("connection refused: the database system is starting up"))

    @bp.post("/dropped")
    def dropped():
        raise DBAPIError("COMMIT", {}, Exception("server closed the connection unexpectedly"),
                         connection_invalidated=True)

    @bp.post("/conflict")
    def conflict():
        raise IntegrityError("INSERT ...", {}, Exception("duplicate key value violates unique constraint"))

    app.register_blueprint(bp)
    return app.test_client()


@pytest.mark.parametrize("path", ["/refused", "/dropped"])
def test_a_database_away_answers_503_with_retry_after_and_the_reason(client, path):
    r = client.post(path)
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "2"
    assert r.get_json()["code"] == 503 and "Basis data tidak tersedia" in r.get_json()["message"]


def test_other_database_errors_stay_500(client):
    r = client.post("/conflict")
    assert r.status_code == 500
    assert "Retry-After" not in r.headers
