"""Every protected route of every service, called with a valid token that must not do what it asks:
a role the route does not allow → 403; another agency, another ASN (a peer reading or changing
VICTIM's data) or a supervisor of another team → 403 or 404, and never VICTIM's data in the answer
nor a change to VICTIM's rows in the database."""
from __future__ import annotations

import json

import pytest

from .routes import PROTECTED, params
from .world import AGENCY, ATTACKERS, OWN_AGENCY, ROLES, bearer, read_body, retarget, token

pytestmark = pytest.mark.integration

REFUSED = (403, 404, 409)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request) -> str:
    """The whole matrix runs on both databases (see conftest's world_of)."""
    return request.param
# where the refusal is per item by design: the batch answers 422 naming each rejected punch
PER_ITEM = {("kehadiran", "POST", "/api/v1/punches"): (422,)}


@params([r for r in PROTECTED if r.roles and set(ROLES) - set(r.roles)])
def test_a_role_the_route_does_not_allow_is_403(route, db_kind, world_of, security_report):
    w = world_of(route.service)
    for role in sorted(set(ROLES) - set(route.roles)):
        # an empty body: the role is refused before anything is validated
        resp = w.call(route, bearer(token(role, nip=OWN_AGENCY[role])), body={})
        body = resp.get_json(silent=True) if resp.mimetype == "application/json" else None
        security_report.attempt("wrong role", route.service, route.method, route.rule, status=resp.status_code,
                                got_through=f"role {role}: {resp.status_code}" if resp.status_code != 403 else None)
        assert resp.status_code == 403, (role, resp.status_code, resp.get_data(as_text=True)[:300])
        assert body and body.get("message"), f"403 without a JSON reason for {role}"
        resp.close()


ATTACKS = [(r, name) for r in PROTECTED for name, (_, role, _, _) in ATTACKERS.items() if role in (r.roles or ())]


@pytest.mark.parametrize("route,attacker", ATTACKS, ids=[f"{r.id} as {a}" for r, a in ATTACKS])
def test_another_agency_team_or_person_is_refused(route, attacker, db_kind, world_of, security_report):
    w = world_of(route.service)
    nip, role, agency, scope = ATTACKERS[attacker]
    markers = w.agency_markers if scope == "agency" else w.victim_markers
    before = w.digest(markers)
    resp = w.call(route, bearer(token(role, agency, nip)))
    status = resp.status_code
    raw = read_body(resp)
    body = raw.decode("utf-8", "replace")
    after = w.digest(markers)
    leaked = sorted(m for m in markers if m in body) if 200 <= status < 300 else []
    problems = []
    if status >= 500:
        problems.append(f"server error {status}")
    if leaked:
        problems.append(f"answer carries {scope} data: {leaked[:3]}")
    if before != after:
        problems.append("the victim's rows changed")
    if not (200 <= status < 300) and status not in REFUSED + PER_ITEM.get((route.service, route.method, route.rule), ()):
        problems.append(f"not refused with 403/404 but {status}")
    if (route.method, route.rule) == ("POST", "/api/v1/punches") and status == 200:
        result = json.loads(raw or b"{}")
        if result.get("accepted") or result.get("duplicates"):
            problems.append(f"punches attributed: {result}")
    elif status in (200, 201) and route.method != "GET" and (route.method, route.rule) not in w.self_service:
        problems.append(f"a change was accepted ({status})")
    if status in (400, 422) and route.method != "GET" and (route.method, route.rule) not in w.bodies:
        # validation answered before any authorisation could: the attack says nothing (see the test below)
        security_report.attempt("inconclusive (no attack body)", route.service, route.method, route.rule,
                                status=status)
        return
    security_report.attempt(f"cross-{scope}", route.service, route.method, route.rule, status=status,
                            url=w.url(route), got_through="; ".join(problems) or None)
    assert not problems, f"{attacker} {route.method} {w.url(route)} -> {status}: {problems}\n{body[:500]}"
    # the same body naming the attacker's own agency: acting on their own agency is fine, but
    # never on an object of agency A that a client-chosen key names (a device's serial)
    make = w.bodies.get((route.method, route.rule))
    own = retarget(make(), agency) if make and scope == "agency" else None
    if own is None or own == make():
        return
    before = w.digest(markers)
    resp = w.call(route, bearer(token(role, agency, nip)), body=own)
    status, text = resp.status_code, read_body(resp).decode("utf-8", "replace")
    problems = []
    if status >= 500:
        problems.append(f"server error {status}")
    if 200 <= status < 300 and any(m in text for m in markers - {AGENCY}):
        problems.append(f"answer carries agency data: {sorted(m for m in markers - {AGENCY} if m in text)[:3]}")
    if w.digest(markers) != before:
        problems.append("agency A's rows changed (an object moved to the attacker's agency?)")
    security_report.attempt("cross-agency (own agency in the body)", route.service, route.method, route.rule,
                            status=status, got_through="; ".join(problems) or None)
    assert not problems, f"{attacker} with their own agency {route.method} {w.url(route)} -> {status}: {problems}"


def test_every_route_taking_a_body_has_an_attack_body(world_of):  # sqlite only: it reads no data
    """A new route whose body is validated before its authorisation needs a valid body aimed at
    VICTIM in world.py, or the attacks above cannot reach its authorisation."""
    missing = [r.id for r in PROTECTED if r.method in ("POST", "PUT", "PATCH") and r.has_body
               and (r.method, r.rule) not in world_of(r.service).bodies]
    assert not missing, f"add an attack body to tests/security/integration/world.py for: {missing}"


GETS = [r for r in PROTECTED if r.method == "GET" and r.roles]


@params(GETS)
def test_control_the_rightful_reader_gets_the_victims_data(route, db_kind, world_of):
    """The same reads as the attacks, by VICTIM, their supervisor or their admin: answered, so the
    refusals above come from the authorisation and not from a request that could never work."""
    w = world_of(route.service)
    role = next(r for r in ("pegawai", "atasan", "admin", "operator") if r in route.roles)
    resp = w.call(route, bearer(token(role, nip=OWN_AGENCY[role])))
    body = read_body(resp).decode("utf-8", "replace")
    assert resp.status_code < 400 or (route.rule, resp.status_code) in CONTROL_EXCEPTIONS, (
        role, resp.status_code, body[:300])


# reads whose rightful answer is legitimately an error in the fixture world
CONTROL_EXCEPTIONS = set()
