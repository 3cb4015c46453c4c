"""The demo plan's attendance through kehadiran's own doors: holidays and leave by its API, the
punches pushed by the two registered terminals with the ADMS protocol (device times and all), and
the past workdays closed. Its own module: one service's part of ``demo_load``."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from kinerja.cli.demo_history import Plan
from kinerja.cli.demo_load_client import Client, DemoError, everyone_known, wait_for

ADMS_BATCH = 1000  # lines per ATTLOG upload, as a terminal sends a backlog
CLOSE_SPAN_DAYS = 90  # kehadiran closes at most 93 days a call


def load_attendance(c: Client, plan: Plan, admin_nip: str) -> Counter:
    base = c.svc.kehadiran
    admin = c.token("admin", admin_nip, plan.agency)
    counts: Counter = Counter()
    wait_for("kehadiran to know the demo roster", everyone_known(plan, lambda nip: c.http.get(
        f"{base}/api/v1/days", params={"nip": nip, "period": plan.months[-1]},
        headers={"Authorization": f"Bearer {admin}"}, timeout=10).status_code == 200))
    known = {h["date"] for year in sorted({d.year for d, _ in plan.holidays}) for h in c.call(
        "GET", f"{base}/api/v1/calendar/holidays", admin, params={"year": year}).json()}
    todo = [(d, name) for d, name in plan.holidays if d.isoformat() not in known]
    if todo:
        body = "date,name,kind\n" + "".join(f"{d.isoformat()},{name},cuti_bersama\n" for d, name in todo)
        c.call("POST", f"{base}/api/v1/calendar/holidays", admin, json={"csv": body})
    counts["holidays"] = len(todo)
    for nip, start, end, kind, note in plan.leaves:
        have = {row["date"] for row in c.call(
            "GET", f"{base}/api/v1/leave", admin, params={"nip": nip, "period": f"{start:%Y-%m}"}).json()}
        if start.isoformat() in have:
            continue
        c.call("POST", f"{base}/api/v1/leave", admin,
               json={"nip": nip, "start_date": start.isoformat(), "end_date": end.isoformat(), "kind": kind, "note": note})
        counts["leave"] += 1
    for sn, punches in plan.punches.items():
        lines = [f"{pin}\t{t:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0" for pin, t in sorted(punches, key=lambda p: p[1])]
        for i in range(0, len(lines), ADMS_BATCH):
            chunk = lines[i:i + ADMS_BATCH]
            r = c.http.post(f"{base}/iclock/cdata", params={"SN": sn, "table": "ATTLOG", "Stamp": str(i + len(chunk))},
                            data=("\r\n".join(chunk) + "\r\n").encode(), timeout=120)
            if r.status_code != 200 or not r.text.startswith("OK:"):
                raise DemoError(f"device {sn}: kehadiran answered {r.status_code}: {r.text[:200]}")
            counts["punches sent"] += len(chunk)
        c.http.get(f"{base}/iclock/getrequest", params={"SN": sn}, timeout=10)  # the terminal's poll
    # workdays without a punch or an excuse become TK (the day closer would, on its next round)
    yesterday = plan.today - timedelta(days=1)
    start = plan.first
    while start <= yesterday:
        end = min(yesterday, start + timedelta(days=CLOSE_SPAN_DAYS - 1))
        r = c.call("POST", f"{base}/api/v1/days/close", admin,
                   json={"start_date": start.isoformat(), "end_date": end.isoformat()})
        counts["day records closed"] += r.json()["count"]
        start = end + timedelta(days=1)
    return counts
