"""The demo plan's appraisal through penilaian's API: ratings (by the supervisor and by the ASN,
each with their own token), training, the organisation's predikat and the performance dialogs,
each sent only when it is not there yet. Its own module: one service's part of ``demo_load``."""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from kinerja.cli.demo_history import Plan
from kinerja.cli.demo_load_client import Client, everyone_known, wait_for


def load_appraisal(c: Client, plan: Plan, admin_nip: str) -> Counter:
    base = c.svc.penilaian
    agency = plan.agency
    admin = c.token("admin", admin_nip, agency)
    boss_of = {r["nip"]: r["atasan_nip"] for r in plan.roster}
    has_team = {r["atasan_nip"] for r in plan.roster if r["atasan_nip"]}
    counts: Counter = Counter()
    wait_for("penilaian to know the demo roster", everyone_known(plan, lambda nip: not boss_of[nip] or (c.http.get(
        f"{base}/api/v1/scores/{nip}", params={"period": plan.months[-1]},
        headers={"Authorization": f"Bearer {admin}"}, timeout=10).json() or {}).get("atasan_nip") is not None))

    def as_person(nip: str) -> str:
        return c.token("atasan" if nip in has_team else "pegawai", nip, agency)

    def rate(nip: str, period: str, items: list[tuple[str, dict]]) -> int:
        have = c.call("GET", f"{base}/api/v1/ratings/{nip}", admin, params={"period": period}).json()
        done = 0
        for rater, levels in items:
            if have.get("supervisor" if rater == "atasan" else "self"):
                continue
            who = boss_of[nip] if rater == "atasan" else nip
            c.call("PUT", f"{base}/api/v1/ratings/{nip}", as_person(who), params={"period": period},
                   json={"levels": levels})
            done += 1
        return done

    grouped: dict[tuple[str, str], list] = {}
    for nip, period, rater, levels in plan.ratings:
        grouped.setdefault((nip, period), []).append((rater, levels))
    with ThreadPoolExecutor(max_workers=6) as pool:
        counts["ratings"] = sum(pool.map(lambda kv: rate(kv[0][0], kv[0][1], kv[1]), grouped.items()))

    by_nip_year: dict[tuple[str, int], list] = {}
    for nip, title, jp, day, provider in plan.trainings:
        by_nip_year.setdefault((nip, day.year), []).append((title, jp, day, provider))

    def train(key) -> int:
        (nip, year), items = key
        have = {(r["title"], r["date"]) for r in c.call(
            "GET", f"{base}/api/v1/training/{nip}", admin, params={"year": year}).json()["records"]}
        done = 0
        for title, jp, day, provider in items:
            if (title, day.isoformat()) in have:
                continue
            c.call("POST", f"{base}/api/v1/training/{nip}", admin,
                   json={"title": title, "jp": jp, "date": day.isoformat(), "provider": provider})
            done += 1
        return done

    with ThreadPoolExecutor(max_workers=6) as pool:
        counts["trainings"] = sum(pool.map(train, by_nip_year.items()))
    for period, predikat in plan.organisation:
        have = c.call("GET", f"{base}/api/v1/organisation-rating", admin, params={"period": period}).json()
        if have.get("predikat") is None:
            c.call("PUT", f"{base}/api/v1/organisation-rating", admin, params={"period": period},
                   json={"predikat": predikat})
            counts["organisation predikat"] += 1
    for d in plan.dialogs:
        have = c.call("GET", f"{base}/api/v1/dialogs/{d['nip']}", admin, params={"period": d["period"]}).json()
        if any(x["date"] == d["date"] for x in have["dialogs"]):
            continue
        c.call("POST", f"{base}/api/v1/dialogs/{d['nip']}", as_person(boss_of[d["nip"]]), params={"period": d["period"]},
               json={k: d[k] for k in ("date", "notes", "follow_up", "values")})
        counts["dialogs"] += 1
    return counts
