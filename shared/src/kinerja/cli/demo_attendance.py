"""The demo history's punches: each ASN's days on the devices, as their persona and leave say."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from kinerja.cli.demo import DEVICES
from kinerja.cli.demo_plan import Plan, end_of_day, pick_weighted
from kinerja.cli.demo_story import PERSONAS, START


def plan_punches(plan: Plan, rng: random.Random, excused: set[tuple[str, date]]) -> None:
    home = {"Sekretariat": DEVICES[0][0], "Bidang Pembinaan SD": DEVICES[0][0]}
    naive_now = plan.now.replace(tzinfo=None)
    for sn, _ in DEVICES:
        plan.punches[sn] = []
    for r in plan.roster:
        nip, pin = r["nip"], r["pin"]
        device = home.get(r["unit"], DEVICES[1][0])
        other = DEVICES[1][0] if device == DEVICES[0][0] else DEVICES[0][0]
        weights = PERSONAS[plan.personas[nip]]["days"]
        for day in plan.workdays:
            if (nip, day) in excused or (nip, day) in plan.absent_days:
                continue
            kind = pick_weighted(rng, weights)
            start = datetime.combine(day, START)
            end = datetime.combine(day, end_of_day(day))
            late = {"TL1": (1, 30), "TL2": (31, 60), "TL3": (61, 90), "TL4": (91, 150)}.get(kind)
            arrival = start + timedelta(minutes=rng.randint(*late)) if late else \
                start - timedelta(minutes=rng.randint(1, 35))
            early = {"PSW1": (1, 30), "PSW2": (31, 60), "PSW3": (61, 90)}.get(kind)
            departure = None if kind == "PSW4" else (
                end - timedelta(minutes=rng.randint(*early)) if early else end + timedelta(minutes=rng.randint(0, 50)))
            for t, sn in ((arrival, device), (departure, other if rng.random() < 0.1 else device)):
                if t is None:
                    continue
                t = t + timedelta(seconds=rng.randint(0, 59))
                if t < naive_now:
                    plan.punches[sn].append((pin, t))
