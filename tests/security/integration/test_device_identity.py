"""Issue 15, items 1 and 10: a device serial is an agency's, and the protocol's requests naming it
are checked for more than the serial.

Class 1 (an object named by a client-chosen key moving between agencies) is also in the
authorisation matrix, which sends every attack body with the attacker's own agency as well; here
are the rules of ownership itself: nobody, an operator included, moves a registered serial without
releasing it first, the release and every refused takeover are audited, and a serial kept for
phone check-ins cannot be registered. Class 10: a released device is refused by the protocol and
gets none of the commands queued for it; a device with a communication key must present it; with
address binding on, a device calls from its first address only; a change of address is audited.
"""
from __future__ import annotations

import pytest

from .world import (A_DEVICE, ADMIN, AGENCY, B_ADMIN, OTHER_AGENCY, VICTIM, bearer, build, last_workday,
                    token)

pytestmark = pytest.mark.integration

SN = "SECMOVE01"


@pytest.fixture
def kehadiran(tmp_path):
    w = build("kehadiran", f"sqlite:///{tmp_path / 'k.db'}", tmp_path, max_body_bytes=65536)
    yield w
    w.runtime.dispose()


def _register(w, who, sn, agency, **extra):
    return w.client.post("/api/v1/devices", json={"sn": sn, "agency": agency, "tz": 7, **extra}, headers=who)


def _audit(w, sn, who):
    return [e["action"] for e in w.client.get(f"/api/v1/devices/{sn}/audit", headers=who).get_json()]


def _device_row(w, sn):
    from kehadiran.adapters.orm import Device

    with w.runtime.session() as s:
        d = s.get(Device, sn)
        return (d.agency, d.active) if d else None


def test_a_registered_serial_moves_only_after_its_owner_or_an_operator_releases_it(kehadiran, security_report):
    w = kehadiran
    a_admin, b_admin, operator = (bearer(token("admin", AGENCY, ADMIN)), bearer(token("admin", OTHER_AGENCY, B_ADMIN)),
                                  bearer(token("operator")))
    assert _register(w, a_admin, SN, AGENCY).status_code == 201
    for who, label in ((b_admin, "other agency's admin"), (operator, "operator")):
        resp = _register(w, who, SN, OTHER_AGENCY)
        moved = _device_row(w, SN) != (AGENCY, True)
        security_report.attempt("device takeover", "kehadiran", "POST", "/api/v1/devices", status=resp.status_code,
                                got_through=f"{label}: {resp.status_code}, device now {_device_row(w, SN)}"
                                if moved or resp.status_code != 409 else None)
        assert resp.status_code == 409 and "melepasnya" in resp.get_json()["message"], resp.get_json()
        assert not moved
    # the owner sees the attempts; the other agency sees nothing of the device
    assert _audit(w, SN, a_admin).count("takeover_refused") == 2
    assert w.client.get(f"/api/v1/devices/{SN}/audit", headers=b_admin).status_code == 404
    assert w.client.post(f"/api/v1/devices/{SN}/release", headers=b_admin).status_code == 404
    # released by its owner, it can be registered elsewhere; the log says who did what
    assert w.client.post(f"/api/v1/devices/{SN}/release", headers=a_admin).get_json()["active"] is False
    assert _register(w, b_admin, SN, OTHER_AGENCY).status_code == 201
    assert _device_row(w, SN) == (OTHER_AGENCY, True)
    assert _audit(w, SN, a_admin) == ["released", "takeover_refused", "takeover_refused", "registered"]
    assert _audit(w, SN, b_admin) == ["registered"]


def test_a_serial_kept_for_phone_check_ins_cannot_be_registered(kehadiran):
    w = kehadiran
    resp = _register(w, bearer(token("admin", AGENCY, ADMIN)), f"phone-{VICTIM}", AGENCY)
    assert resp.status_code == 422 and "absen ponsel" in resp.get_json()["message"]


def test_a_released_device_is_refused_and_gets_no_queued_command(kehadiran, security_report):
    w = kehadiran
    admin = bearer(token("admin", AGENCY, ADMIN))
    queued = w.client.post(f"/api/v1/devices/{A_DEVICE}/commands", json={"kind": "info"}, headers=admin)
    assert queued.status_code == 201
    assert w.client.post(f"/api/v1/devices/{A_DEVICE}/release", headers=admin).status_code == 200
    line = f"3\t{last_workday()} 16:10:00\t0\t1\t0\t0\t0\n"
    for method, path, kw in (("GET", "/iclock/getrequest", {}), ("GET", "/iclock/cdata", {}),
                             ("POST", "/iclock/cdata", {"data": line}), ("GET", "/iclock/ping", {})):
        query = {"SN": A_DEVICE, **({"table": "ATTLOG"} if method == "POST" else {})}
        resp = w.client.open(path, method=method, query_string=query, **kw)
        body = resp.get_data(as_text=True)
        got = resp.status_code != 403 or "C:" in body
        security_report.attempt("released device", "kehadiran", method, path, status=resp.status_code,
                                got_through=f"{resp.status_code} {body[:60]!r}" if got else None)
        assert not got, (path, resp.status_code, body)
    # the JSON route refuses its device token too, and the command is cancelled, not pending
    resp = w.client.post("/api/v1/punches", json={"punches": [{"pin": "3", "time": f"{last_workday()}T16:11:00+07:00"}]},
                         headers=bearer(token("device")))
    assert resp.status_code == 403
    commands = w.client.get(f"/api/v1/devices/{A_DEVICE}/commands", headers=admin).get_json()
    assert {c["status"] for c in commands} == {"cancelled"}
    assert w.client.post(f"/api/v1/devices/{A_DEVICE}/commands", json={"kind": "info"},
                         headers=admin).status_code == 422


def _adms(w, path, address, method="GET", **query):
    return w.client.open(path, method=method, query_string={"SN": SN, **query},
                         environ_base={"REMOTE_ADDR": address})


def test_a_device_with_a_communication_key_must_present_it(kehadiran, security_report):
    w = kehadiran
    admin = bearer(token("admin", AGENCY, ADMIN))
    assert _register(w, admin, SN, AGENCY, comm_key="a1b2c3d4e5f6").status_code == 201
    listed = {d["sn"]: d for d in w.client.get("/api/v1/devices", headers=admin).get_json()}
    assert listed[SN]["comm_key_set"] is True and "comm_key" not in listed[SN]
    refused = [_adms(w, "/iclock/getrequest", "10.1.1.5"),  # no handshake with the key yet
               _adms(w, "/iclock/cdata", "10.1.1.5", options="all"),  # a handshake without the key
               _adms(w, "/iclock/cdata", "10.1.1.5", options="all", pushcommkey="ffff")]  # the wrong key
    for resp in refused:
        security_report.attempt("device without its key", "kehadiran", "GET", "/iclock/*", status=resp.status_code,
                                got_through=None if resp.status_code == 403 else f"{resp.status_code}")
    assert [r.status_code for r in refused] == [403, 403, 403]
    # the right key: the handshake binds the device's other requests to its address
    assert _adms(w, "/iclock/cdata", "10.1.1.5", options="all", pushcommkey="A1B2C3D4E5F6").status_code == 200
    assert _adms(w, "/iclock/getrequest", "10.1.1.5").status_code == 200
    assert _adms(w, "/iclock/getrequest", "10.9.9.9").status_code == 403
    assert "comm_key_refused" in _audit(w, SN, admin) and "address_refused" in _audit(w, SN, admin)


def test_address_binding_and_address_changes(kehadiran, security_report):
    w = kehadiran
    admin = bearer(token("admin", AGENCY, ADMIN))
    assert _register(w, admin, SN, AGENCY).status_code == 201
    # binding off (the default): a new address is allowed, and audited as a change
    assert _adms(w, "/iclock/ping", "10.0.0.1").status_code == 200
    assert _adms(w, "/iclock/ping", "10.0.0.2").status_code == 200
    assert _audit(w, SN, admin)[0] == "address_changed"
    status = w.client.get(f"/api/v1/devices/{SN}/status", headers=admin).get_json()
    assert status["last_address"] == "10.0.0.2" and status["address_changed_at"]
    # registered networks: anything else is refused and audited
    assert _register(w, admin, SN, AGENCY, addresses=["192.168.10.0/24"]).status_code == 201
    assert _adms(w, "/iclock/ping", "192.168.10.7").status_code == 200
    resp = _adms(w, "/iclock/ping", "10.0.0.2")
    security_report.attempt("device from another address", "kehadiran", "GET", "/iclock/ping",
                            status=resp.status_code, got_through=None if resp.status_code == 403 else "not refused")
    assert resp.status_code == 403 and _audit(w, SN, admin)[0] == "address_refused"
    # binding on: the first address a device calls from is the one it keeps
    w.runtime.settings.extra["device_address_binding"] = "1"
    try:
        assert _register(w, admin, "SECBIND01", AGENCY).status_code == 201
        first = w.client.get("/iclock/ping", query_string={"SN": "SECBIND01"}, environ_base={"REMOTE_ADDR": "10.5.5.5"})
        other = w.client.get("/iclock/ping", query_string={"SN": "SECBIND01"}, environ_base={"REMOTE_ADDR": "10.6.6.6"})
        assert (first.status_code, other.status_code) == (200, 403)
        assert _audit(w, "SECBIND01", admin)[:2] == ["address_refused", "address_bound"]
    finally:
        w.runtime.settings.extra.pop("device_address_binding", None)
