"""Issue 15, item 9, each as a class:

- no process runs with the signing secret in the source when it is told it is production, and the
  secret ``make run`` uses is the installation's own, kept under ``var/``;
- no route answers a role it was not written for: a device token is refused everywhere a route does
  not name the device role;
- every answer says ``nosniff``, and every API answer ``no-store``;
- a download is served as a type that cannot run in the browser unless its type is a safe one;
- a refused request writes nothing (the phone punch that left a device row behind): see the
  boundary sweep, which checks row counts around every 4xx of a write route.
"""
from __future__ import annotations

import importlib
import io
import os
import stat

import jwt
import pytest
from click.testing import CliRunner

from kinerja.cli.main import cli
from kinerja.config import DEV_JWT_SECRET
from kinerja.webapp import runtime_of

from .routes import PROTECTED, ROUTES, allowed_token, params
from .world import SERVICES, VICTIM, bearer, read_body, token

pytestmark = pytest.mark.integration

DEVICE_ROUTES = {("kehadiran", "POST", "/api/v1/punches")}


# -- the signing secret ------------------------------------------------------------------------------
@pytest.mark.parametrize("secret", [None, DEV_JWT_SECRET, "CHANGE-ME-at-least-32-bytes-of-random-data", "short"])
@pytest.mark.parametrize("service", SERVICES)
def test_production_refuses_to_start_without_a_real_signing_secret(service, secret, monkeypatch, tmp_path,
                                                                   security_report):
    monkeypatch.setenv("KINERJA_ENV", "production")
    monkeypatch.delenv("KINERJA_JWT_SECRET_FILE", raising=False)
    if secret is None:
        monkeypatch.delenv("KINERJA_JWT_SECRET", raising=False)
    else:
        monkeypatch.setenv("KINERJA_JWT_SECRET", secret)
    monkeypatch.setenv(f"{service.upper()}_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    from kinerja.config import ConfigError

    started = []
    for make in (lambda: importlib.import_module(f"{service}.entrypoints.app").create_app(),
                 lambda: importlib.import_module(f"{service}.entrypoints.runtime").make_runtime()):
        try:
            thing = make()
            started.append(thing)
        except ConfigError as exc:
            assert "KINERJA_JWT_SECRET" in str(exc)
    security_report.attempt("weak signing secret in production", service, "START", "create_app / make_runtime",
                            got_through=f"started with {secret!r}" if started else None)
    assert not started


def test_production_starts_with_a_real_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("KINERJA_ENV", "production")
    monkeypatch.setenv("KINERJA_JWT_SECRET", "x" * 8 + os.urandom(24).hex())
    monkeypatch.setenv("KEHADIRAN_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    app = importlib.import_module("kehadiran.entrypoints.app").create_app()
    assert app.config["KINERJA_SETTINGS"].jwt_secret != DEV_JWT_SECRET
    runtime_of(app).dispose()


def test_an_installation_keeps_its_own_secret_and_the_command_signs_with_it(tmp_path, monkeypatch):
    from kinerja.config import installation_secret

    monkeypatch.setenv("KINERJA_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("KINERJA_JWT_SECRET", raising=False)
    first = installation_secret(tmp_path)
    assert first == installation_secret(tmp_path) and len(first) >= 32 and first != DEV_JWT_SECRET
    assert stat.S_IMODE((tmp_path / "jwt-secret").stat().st_mode) == 0o600
    out = CliRunner().invoke(cli, ["token", "--role", "operator", "--agency", "*"]).output.strip()
    assert jwt.decode(out, first, algorithms=["HS256"], issuer="kinerja")["role"] == "operator"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(out, DEV_JWT_SECRET, algorithms=["HS256"], issuer="kinerja")


# -- roles ---------------------------------------------------------------------------------------------
@params(PROTECTED)
def test_a_device_token_is_refused_where_a_route_does_not_name_devices(route, world_of, security_report):
    w = world_of(route.service)
    resp = w.call(route, bearer(token("device")), body={})
    named = (route.service, route.method, route.rule) in DEVICE_ROUTES
    got = not named and resp.status_code != 403
    security_report.attempt("device token on a route not for devices", route.service, route.method, route.rule,
                            status=resp.status_code, got_through=f"{resp.status_code}" if got else None)
    read_body(resp)
    assert not got, resp.status_code
    assert named == ("device" in (route.roles or ())), route.roles


# -- headers -------------------------------------------------------------------------------------------
@params(ROUTES)
def test_every_answer_says_nosniff_and_api_answers_no_store(route, world_of, security_report):
    w = world_of(route.service)
    headers = bearer(allowed_token(route)) if route.roles else {}
    query = {"SN": "SECA0001"} if route.blueprint == "iclock" else None
    resp = (w.client.open(w.url(route), method=route.method, query_string=query, headers=headers)
            if query else w.call(route, headers))
    read_body(resp)
    cached = route.blueprint in ("dashboard", "static", "api-docs") or route.endpoint == "static"
    missing = [h for h, ok in (("X-Content-Type-Options: nosniff", resp.headers.get("X-Content-Type-Options") == "nosniff"),
                               ("Cache-Control: no-store", cached or "no-store" in resp.headers.get("Cache-Control", "")))
               if not ok]
    security_report.attempt("security headers", route.service, route.method, route.rule, status=resp.status_code,
                            got_through=f"missing {missing}" if missing else None)
    assert not missing, (resp.status_code, dict(resp.headers))


# -- downloads -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("declared", ["text/html", "image/svg+xml", "application/javascript", "text/xml",
                                      "application/xhtml+xml", "text/html; charset=utf-8", "x" * 300])
def test_an_upload_is_never_served_as_a_type_the_browser_would_run(declared, world_of, security_report):
    w = world_of("tugas")
    task = w.path_by_rule["POST /api/v1/tasks/<task_id>/evidence"]["task_id"]
    me = bearer(token("pegawai", nip=VICTIM))
    up = w.client.post(f"/api/v1/tasks/{task}/evidence", headers=me, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(b"<script>alert(1)</script>"), "bukti.html", declared)})
    assert up.status_code == 201, up.get_data(as_text=True)
    down = w.client.get(f"/api/v1/tasks/{task}/evidence/{up.get_json()['id']}", headers=me)
    served = down.headers["Content-Type"].split(";")[0]
    ok = (served == "application/octet-stream" and down.headers["Content-Disposition"].startswith("attachment")
          and down.headers["X-Content-Type-Options"] == "nosniff")
    security_report.attempt("evidence served as uploaded", "tugas", "GET", "/api/v1/tasks/<task_id>/evidence/<evidence_id>",
                            status=down.status_code, got_through=None if ok else f"served as {served}")
    assert ok, dict(down.headers)
