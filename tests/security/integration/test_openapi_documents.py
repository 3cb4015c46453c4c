"""Issue 19 item 9 over the four OpenAPI documents: every body is fully described (no object
whose contents the document leaves open), and every resource that can be written can be read."""
from __future__ import annotations

import tempfile

import pytest

from .world import SERVICES, build_app
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration

# the last segment of a path that acts on a resource rather than being one
ACTIONS = {"approve", "reject", "return", "submit", "start", "cancel", "accept", "withdraw", "close", "enable",
           "read", "read-all", "commands", "release"}


def document(service: str) -> dict:
    app = build_app(service, f"sqlite:///{tempfile.mkdtemp(prefix='kinerja-doc-')}/doc.db", migrate=False)
    try:
        return app.test_client().get("/openapi.json").get_json()
    finally:
        runtime_of(app).dispose()


def open_objects(node, where="", out=None) -> list[str]:
    """Where the document has an object whose properties it does not say: no ``properties``, no
    typed ``additionalProperties``, and no ``oneOf``/``allOf``/``$ref`` saying what it is."""
    out = [] if out is None else out
    if isinstance(node, dict):
        is_object = node.get("type") == "object" or ("additionalProperties" in node and "type" not in node)
        described = (node.get("properties") or node.get("additionalProperties") not in (None, True, {})
                     or any(k in node for k in ("oneOf", "allOf", "anyOf", "$ref")))
        if is_object and not described:
            out.append(where)
        for key, value in node.items():
            open_objects(value, f"{where}/{key}", out)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            open_objects(value, f"{where}[{i}]", out)
    return out


@pytest.mark.parametrize("service", SERVICES)
def test_every_body_is_fully_described(service):
    doc = document(service)
    assert open_objects(doc["components"]) == []
    assert open_objects(doc["paths"]) == []


@pytest.mark.parametrize("service", SERVICES)
def test_every_resource_written_can_be_read(service):
    paths = document(service)["paths"]
    unreadable = []
    for path, ops in paths.items():
        last = path.rstrip("/").rsplit("/", 1)[-1]
        if last in ACTIONS:
            continue
        for method in ("post", "put", "patch"):
            if method not in ops:
                continue
            parent = path.rsplit("/", 1)[0]
            if "get" not in ops and not (method != "post" and "get" in paths.get(parent, {})):
                unreadable.append(f"{method.upper()} {path}")
    assert unreadable == []


def test_the_phone_punch_item_and_the_weeks_are_described():
    doc = document("kehadiran")
    schemas = doc["components"]["schemas"]
    assert schemas["PunchBatch"]["properties"]["punches"]["items"] == {"$ref": "#/components/schemas/PunchItem"}
    assert "token's NIP" in schemas["PunchItem"]["properties"]["nip"]["description"]
    for name in ("UnitScheduleIn", "UnitScheduleOut", "RamadanIn", "RamadanOut"):
        days = schemas[name]["properties"]["days"]
        assert days.get("allOf", [days])[0] == {"$ref": "#/components/schemas/Week"}
    assert list(schemas["Week"]["properties"]) == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
