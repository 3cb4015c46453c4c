"""A terminal's plain punch requests are served by the lean WSGI path (``entrypoints.lean_routes``)
in front of the Flask app: the answer must be the Flask view's, byte for byte, the rows the same,
and everything that is not the plain case must still get the Flask app's own answer."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from werkzeug.test import EnvironBuilder

from kehadiran.entrypoints.lean_routes import LeanRoutes
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
AGENCY = "disdik"
SN = "LMS0001"
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
DEVICE = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn=SN)}
STAFF = [(f"19850312201001{k:04d}", str(100 + k)) for k in range(6)]
START = datetime.now(timezone(timedelta(hours=7))).replace(hour=7, minute=0, second=0, microsecond=0,
                                                            tzinfo=None) - timedelta(days=1)


def environ(kind: str, pin: str, when: datetime, headers: dict | None = None) -> dict:
    if kind == "json":
        builder = EnvironBuilder(path="/api/v1/punches", method="POST", headers={**DEVICE, **(headers or {})},
                                 json={"punches": [{"pin": pin, "time": when.isoformat() + "+07:00"}]})
    else:
        builder = EnvironBuilder(path="/iclock/cdata", query_string=f"SN={SN}&table=ATTLOG&Stamp=9", method="POST",
                                 data=f"{pin}\t{when:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0\n".encode(),
                                 content_type="text/plain", headers=headers)
    env = builder.get_environ()
    env["REMOTE_ADDR"] = "127.0.0.1"
    env["SERVER_SOFTWARE"] = "gunicorn/23"  # no Date header of the app's: gunicorn writes it
    return env


def answer(wsgi, env) -> tuple[str, list, bytes]:
    got: list = []
    body = b"".join(wsgi(env, lambda status, headers, _e=None: got.append((status, headers))))
    return got[0][0], got[0][1], body


def stored(app, pin: str):
    with runtime_of(app).engine.connect() as conn:
        punch = conn.execute(text("SELECT nip, channel, agency, event_id FROM punches WHERE person_key = :p"),
                             {"p": pin}).one()
        events = conn.execute(text("SELECT count(*) FROM outbox WHERE event_id = :e"), {"e": punch.event_id}).scalar()
        days = conn.execute(text("SELECT count(*) FROM dirty_days WHERE nip = :n"), {"n": punch.nip}).scalar()
    return punch.nip, punch.channel, punch.agency, events, days


@pytest.mark.parametrize("kind, language", [("json", None), ("json", "en"), ("adms", None)])
def test_the_lean_path_answers_and_stores_as_the_flask_view(app, kind, language):
    lean = app.wsgi_app
    assert isinstance(lean, LeanRoutes)
    headers = {"Accept-Language": language} if language else None
    (pin_a, nip_a), (pin_b, nip_b) = (STAFF[0][1], STAFF[0][0]), (STAFF[1][1], STAFF[1][0])
    env_lean = environ(kind, pin_a, START, headers)
    env_flask = environ(kind, pin_b, START, headers)
    # the device's first contact from this address: the registry notes it (the Flask view's work)
    assert answer(app, environ(kind, STAFF[5][1], START - timedelta(hours=1), headers))[0] == "200 OK"
    flask_wsgi = lean.flask_wsgi
    lean.flask_wsgi = None  # the plain case never reaches the Flask app
    try:
        served = answer(app, env_lean)
    finally:
        lean.flask_wsgi = flask_wsgi
    assert served == answer(flask_wsgi, env_flask)
    assert served[0] == "200 OK" and served[2].rstrip() in (b"OK:1", b'{"accepted":1,"duplicates":0,'
                                                                       b'"quarantined":0,"rejected":[]}')
    channel = "json" if kind == "json" else "adms"
    assert stored(app, pin_a) == (nip_a, channel, AGENCY, 1, 1)
    assert stored(app, pin_b) == (nip_b, channel, AGENCY, 1, 1)
    # the same punches again: duplicates, answered alike, nothing stored twice
    assert answer(app, environ(kind, pin_a, START, headers)) == answer(lean.flask_wsgi,
                                                                       environ(kind, pin_b, START, headers))
    assert stored(app, pin_a) == (nip_a, channel, AGENCY, 1, 1)


def test_what_is_not_the_plain_case_gets_the_flask_apps_answer(app):
    pin = STAFF[2][1]
    # a token that does not verify: the guard's 401, JSON, with the challenge
    env = environ("json", pin, START, {"Authorization": "Bearer nonsense"})
    status, headers, body = answer(app, env)
    assert status.startswith("401") and dict(headers)["WWW-Authenticate"] == 'Bearer realm="kinerja"', body
    # an item the schema refuses beside a good one: the good one kept, the bad one reported by
    # index in the client's language (the body the lean path read reaches the view)
    env = EnvironBuilder(path="/api/v1/punches", method="POST", headers={**DEVICE, "Accept-Language": "id"},
                         json={"punches": [{"pin": pin, "time": START.isoformat() + "+07:00"},
                                           {"pin": "abc", "time": START.isoformat() + "+07:00"}]}).get_environ()
    status, headers, body = answer(app, env)
    reply = json.loads(body)
    assert status == "200 OK" and reply["accepted"] == 1 and reply["rejected"][0]["index"] == 1, reply
    assert dict(headers)["Content-Language"] == "id"
    # a browser's request (an Origin): CORS headers, which a request without one does not get
    origin = "http://127.0.0.1:8004"
    status, headers, _ = answer(app, environ("json", STAFF[3][1], START, {"Origin": origin}))
    assert status == "200 OK" and dict(headers)["Access-Control-Allow-Origin"] == origin
    status, headers, _ = answer(app, environ("json", STAFF[4][1], START))
    assert status == "200 OK" and "Access-Control-Allow-Origin" not in dict(headers)
    # an ATTLOG upload from a serial nobody registered: the device protocol's 403
    env = environ("adms", pin, START + timedelta(minutes=1))
    env["QUERY_STRING"] = "SN=NOBODY1&table=ATTLOG&Stamp=9"
    status, _, body = answer(app, env)
    assert status.startswith("403") and body == b"ERROR: device NOBODY1 is not registered with this server\n"
    # a malformed line beside a good one: the good one stored, the bad one noted on the device
    env = EnvironBuilder(path="/iclock/cdata", query_string=f"SN={SN}&table=ATTLOG&Stamp=10", method="POST",
                         data=f"{STAFF[5][1]}\t{START:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0\nnot a line\n".encode(),
                         content_type="text/plain").get_environ()
    env["REMOTE_ADDR"] = "127.0.0.1"
    status, _, body = answer(app, env)
    assert (status, body) == ("200 OK", b"OK:1")
    with runtime_of(app).engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM punches WHERE person_key = :p"), {"p": STAFF[5][1]}).scalar() == 1
        noted = conn.execute(text("SELECT last_rejected FROM devices WHERE sn = :sn"), {"sn": SN}).scalar()
    assert noted, "the malformed line is noted on the device"
