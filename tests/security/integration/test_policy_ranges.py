"""Issue 15, item 5: a stored setting that every later computation reads (an agency's scoring
policy) is refused when it is out of range, so it cannot poison the scores read after it. Each
number of the policy document is tried with the probe's ``1e999999`` and with values just outside
its range (taken from the OpenAPI document); the weights must also add up to 1. Sent by an agency
whose ASN have no facts yet, where nothing is recomputed at once: the kind of setting that used to
be accepted and break the reads that came later (which test_boundaries' read-after-the-sweep
checks on every route)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from .world import B_ADMIN, B_PEG, OTHER_AGENCY, bearer, token

pytestmark = pytest.mark.integration


def _numbers(spec) -> dict:
    props = spec["components"]["schemas"]["PolicyIn"]["properties"]
    return {k: v for k, v in props.items() if v.get("format") == "decimal"}


def test_out_of_range_policy_numbers_are_refused_and_reads_stay_whole(world_of, security_report):
    w = world_of("penilaian")
    spec = w.client.get("/openapi.json").get_json()
    numbers = _numbers(spec)
    assert {"weight_hasil_kerja", "weight_perilaku", "above_from", "meets_from"} <= set(numbers)
    admin = bearer(token("admin", OTHER_AGENCY, B_ADMIN))
    tries = [{"weight_hasil_kerja": "0.7", "weight_perilaku": "0.4"},  # do not add up to 1
             {"weight_hasil_kerja": "1", "weight_perilaku": "1"}]
    for name, schema in numbers.items():
        tries.append({name: "1e999999"})
        tries.append({name: "1e-999999"})
        high = schema.get("x-maximum")
        low = schema.get("x-minimum") or schema.get("x-exclusiveMinimum")
        if high is not None:
            tries.append({name: str(Decimal(high) + 1)})
        if low is not None:
            tries.append({name: str(Decimal(low) - 1)})
    failures = []
    for values in tries:
        resp = w.client.put("/api/v1/policy", json={"effective_from": "2026-01", **values}, headers=admin)
        ok = resp.status_code in (400, 422) and resp.get_json().get("message")
        security_report.attempt("policy out of range", "penilaian", "PUT", "/api/v1/policy", status=resp.status_code,
                                got_through=None if ok else f"{values}: {resp.status_code}")
        if not ok:
            failures.append((values, resp.status_code))
    versions = w.client.get("/api/v1/policy", headers=admin).get_json()["versions"]
    for path in (f"/api/v1/scores/{B_PEG}?period=2026-01", f"/api/v1/ratings/{B_PEG}?period=2026-01",
                 "/api/v1/distribution?period=2026-01"):
        resp = w.client.get(path, headers=admin)
        assert resp.status_code < 500, (path, resp.status_code)
    assert not failures, failures
    assert versions == [], versions
