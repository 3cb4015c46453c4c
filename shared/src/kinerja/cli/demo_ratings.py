"""The demo history's BerAKHLAK ratings, by the supervisor and by the ASN."""
from __future__ import annotations

import random
from datetime import timedelta

from kinerja.cli.demo_plan import Plan, month_start, pick_weighted, weekday_on_or_before
from kinerja.cli.demo_story import BERAKHLAK, LEVELS, PERSONAS


def levels_for(rng: random.Random, weights: dict[str, int]) -> dict[str, str]:
    return {v: pick_weighted(rng, weights) for v in BERAKHLAK}


def plan_ratings(plan: Plan, rng: random.Random, people: dict[str, dict]) -> None:
    """Monthly BerAKHLAK ratings by the supervisor and by the ASN (self-ratings sit higher), and the
    current quarter's; some ASN rate themselves two levels above their supervisor on a value."""
    staff = [r for r in plan.roster if r["atasan_nip"]]
    team = [r["nip"] for r in staff if r["atasan_nip"] == people["atasan"]["nip"]]
    gaps = set(rng.sample(team, 2)) | set(rng.sample([r["nip"] for r in staff], 4))
    y, m = plan.today.year, plan.today.month
    quarter = f"{y}-Q{(m - 1) // 3 + 1}"
    periods = plan.months + [quarter]
    rated_by_self = {plan.months[-2], plan.months[-1], quarter}  # ASN rate themselves less often
    for r in staff:
        weights = PERSONAS[plan.personas[r["nip"]]]["levels"]
        for period in periods:
            boss = levels_for(rng, weights)
            own = {v: LEVELS[min(2, LEVELS.index(lv) + (1 if rng.random() < 0.45 else 0))] for v, lv in boss.items()}
            if r["nip"] in gaps:
                for v in rng.sample(BERAKHLAK, 2):
                    boss[v], own[v] = "below", "above"
            plan.ratings.append((r["nip"], period, "atasan", boss))
            if period in rated_by_self:
                plan.ratings.append((r["nip"], period, "self", own))
    # a dialog kinerja held last month about one of the gaps
    nip = sorted(gaps & set(team))[0]
    day = weekday_on_or_before(month_start(plan.today, 1) + timedelta(days=20))
    plan.dialogs.append({"nip": nip, "period": plan.months[-2], "date": day.isoformat(),
                         "notes": "Membahas perbedaan penilaian nilai Akuntabel dan Kolaboratif.",
                         "follow_up": "Pendampingan penyusunan laporan dan keterlibatan dalam tim kerja lintas bidang.",
                         "values": ["akuntabel", "kolaboratif"]})
