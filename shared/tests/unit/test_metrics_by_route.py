"""``kinerja.metrics.instrument_app``: every request is counted by method, route rule and status,
also when its histogram child is the one an earlier request of the same route used."""
import pytest
from flask import Flask
from prometheus_client import REGISTRY

from kinerja.metrics import instrument_app

pytestmark = pytest.mark.unit


def count(route: str, status: str) -> float:
    return REGISTRY.get_sample_value("kinerja_http_request_duration_seconds_count",
                                     {"service": "metrics-test", "method": "GET", "route": route,
                                      "status": status}) or 0.0


def test_each_request_is_counted_by_its_route_and_status():
    app = Flask(__name__)
    instrument_app(app, "metrics-test")

    @app.get("/items/<int:n>")
    def item(n):
        return ("", 404) if n == 0 else "x"

    client = app.test_client()
    before_ok, before_missing = count("/items/<int:n>", "200"), count("/items/<int:n>", "404")
    for n in (1, 2, 0, 3):
        client.get(f"/items/{n}")
    assert count("/items/<int:n>", "200") == before_ok + 3
    assert count("/items/<int:n>", "404") == before_missing + 1
    assert client.get("/metrics").status_code == 200
