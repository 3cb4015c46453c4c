"""The setting of the penilaian SIGKILL scenarios: kehadiran and penilaian on fresh PostgreSQL
databases, one agency's roster read by penilaian, then penilaian's consumer killed while every
punch of the plan comes in and the relay publishes it, so a backlog waits on the topic for
whatever consumers the scenario starts next."""
from __future__ import annotations

import signal
from dataclasses import dataclass

import requests

from kinerja.stack import Stack
from kinerja.testing import create_postgres_database, wait_until

from .harness import (Db, Plan, device_token, load_roster, make_plan, register_devices, wait_days_worked,
                      wait_outbox_drained)

BATCH = 20  # punches per POST


@dataclass
class PenilaianBacklog:
    stack: Stack
    plan: Plan
    kehadiran: Db
    penilaian: Db
    kehadiran_topic: str
    group: str
    backlog: int  # kehadiran events published while penilaian was away

    def applied(self) -> int:
        """Kehadiran events penilaian has recorded as processed."""
        return self.penilaian.scalar("SELECT count(*) FROM processed_events WHERE topic = :t",
                                     t=self.kehadiran_topic)

    def applied_past_committed(self, bootstrap: str) -> int:
        """Events applied (id recorded) at or past the group's committed offsets: the ones handed
        out again to whichever consumer reads those partitions next."""
        offsets = committed_by_partition(bootstrap, self.group, self.kehadiran_topic)
        rows = self.penilaian.rows('SELECT "partition", "offset" FROM processed_events WHERE topic = :t',
                                   t=self.kehadiran_topic)
        return sum(1 for part, offset in rows if offset >= offsets.get(part, 0))

    def close(self) -> None:
        self.kehadiran.close()
        self.penilaian.close()


def penilaian_backlog(kafka_bootstrap: str, topic_prefix: str, postgres_server: str, make_stack, *,
                      agency: str, agency_no: int, seed: int, extra_env: dict | None = None) -> PenilaianBacklog:
    urls = {"kehadiran": create_postgres_database(postgres_server),
            "penilaian": create_postgres_database(postgres_server)}
    stack = make_stack(kafka_bootstrap, topic_prefix, urls, extra_env=extra_env or {})
    keh, pen = Db(urls["kehadiran"]), Db(urls["penilaian"])
    plan = make_plan(agency, agency_no, staff=60, devices=1, days=6, seed=seed)
    register_devices(stack, plan)
    load_roster(stack, plan, keh)
    wait_until(lambda: pen.scalar("SELECT count(*) FROM employees") == len(plan.staff), 60,
               message="penilaian has read the roster (its offsets are committed)")

    stack.kill("penilaian-consumer", signal.SIGKILL)
    items = [p.json_item() for p in plan.punches]
    for i in range(0, len(items), BATCH):
        r = requests.post(f"{stack.url('kehadiran')}/api/v1/punches", json={"punches": items[i:i + BATCH]},
                          headers=device_token(plan.agency, plan.devices[0]), timeout=30)
        assert r.status_code == 200 and r.json()["accepted"] == len(items[i:i + BATCH]), r.text
    wait_days_worked(keh, 60)
    wait_outbox_drained(keh, 60)
    return PenilaianBacklog(stack, plan, keh, pen, f"{topic_prefix}.kehadiran.v1", f"{topic_prefix}.penilaian",
                            keh.scalar("SELECT count(*) FROM outbox"))


def committed_by_partition(bootstrap: str, group: str, topic_name: str) -> dict[int, int]:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="faults-offsets")
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
    finally:
        admin.close()
    return {tp.partition: o.offset for tp, o in offsets.items() if tp.topic == topic_name and o.offset >= 0}
