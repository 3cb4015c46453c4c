"""Poison on every topic — a message that is not JSON, one of an unknown type, one that breaks
its type's schema — each followed by a good event for the same ASN (same partition). Every
consumer group that reads the topic sends to ``<topic>.dlq``, with the reason in the headers, each
poison it would have to read (notifikasi passes over the types it keeps nothing of from their
bytes: ``dead_lettered_by``), and applies the good event after them. Consumers: kehadiran (pegawai.v1), penilaian
(kehadiran.v1, tugas.v1, pegawai.v1) and notifikasi's consumer (all four, the only reader of
penilaian.v1), each with its own database."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import datetime, time, timezone
from decimal import Decimal

import pytest
import requests

from kinerja.cli.roster import parse_roster, publish
from kinerja.events import make_event
from kinerja.events.kehadiran import DISCIPLINE_ALERT
from kinerja.events.penilaian import SCORE_UPDATED
from kinerja.events.tugas import TASK_APPROVED
from kinerja.messaging.producer import make_producer
from kinerja.testing import create_postgres_database, wait_until
from notifikasi.service_layer.notifications import HANDLED_TYPES as NOTIFIKASI_KEEPS

from .harness import WIB, Db, check_alive, device_token, load_roster, make_plan, past_workdays, read_topic, register_devices, score

pytestmark = pytest.mark.slow
TOPICS = ("kehadiran.v1", "tugas.v1", "penilaian.v1", "pegawai.v1")
# the groups that read each topic in the committed code; a group not named here that also reads
# it (penilaian's consumer grows) may dead-letter the poison too, but never a good event
READERS = {"pegawai.v1": ("kehadiran", "penilaian", "notifikasi"), "kehadiran.v1": ("penilaian", "notifikasi"),
           "tugas.v1": ("penilaian", "notifikasi"), "penilaian.v1": ("notifikasi",)}
SCHEMA_BREAKERS = {
    "kehadiran.v1": ("kehadiran.day.summarized.v1", {"nip": "123", "date": "yesterday"}),
    "tugas.v1": ("tugas.task.approved.v1", {"task_id": "t1", "nip": "not-a-nip", "status": "exploded"}),
    "penilaian.v1": ("penilaian.score.updated.v1", {"nip": "199001012020011001", "period": "2026-01",
                                                    "predikat": "Luar Biasa"}),
    "pegawai.v1": ("pegawai.employee.upserted.v1", {"nip": "abc", "agency": ""}),
}


def poisons(base: str, nip: str) -> list[bytes]:
    envelope = {"specversion": "1.0", "source": "faults/poison", "time": datetime.now(timezone.utc).isoformat(),
                "subject": nip, "agency": "faults-poison"}
    kind, data = SCHEMA_BREAKERS[base]
    return [
        b'{"id": "poison-not-json", "type": ' + base.encode() + b"\x00\xff",
        json.dumps({**envelope, "id": f"poison-unknown-{uuid.uuid4()}", "type": f"{base[:-3]}.exploded.v9",
                    "data": {}}).encode(),
        json.dumps({**envelope, "id": f"poison-schema-{uuid.uuid4()}", "type": kind, "data": data}).encode(),
    ]


def dead_lettered_by(service: str, base: str, sent: list[bytes]) -> list[bytes]:
    """The poisons a reader must dead-letter. notifikasi passes over, from the bytes, every type it
    keeps nothing of (an unknown type too: an additive contract may add types it need not read), so
    its DLQ gets the message that is not JSON and the broken data of a type it keeps, not the rest."""
    if service != "notifikasi":
        return sent
    not_json, _unknown, broken = sent
    return [not_json] + ([broken] if SCHEMA_BREAKERS[base][0] in NOTIFIKASI_KEEPS else [])


def test_poison_on_every_topic_goes_to_its_dlq_and_the_consumers_keep_going(kafka_bootstrap, topic_prefix,
                                                                             postgres_server, make_stack,
                                                                             fault_report, request):
    urls = {"kehadiran": create_postgres_database(postgres_server), "penilaian": create_postgres_database(postgres_server)}
    stack = make_stack(kafka_bootstrap, topic_prefix, urls)
    # notifikasi's consumer alone (on its embedded database) reads penilaian.v1
    subprocess.run([sys.executable, "-m", "notifikasi.entrypoints.migrate"], env=stack.env(), check=True,
                   capture_output=True)
    stack.start_process("notifikasi", "consumer")
    dbs = {"kehadiran": Db(urls["kehadiran"]), "penilaian": Db(urls["penilaian"]),
           "notifikasi": Db(f"sqlite:///{stack.var_dir / 'notifikasi.db'}")}
    plan = make_plan("faults-poison", 6, staff=2, devices=1, days=1, seed=6)
    register_devices(stack, plan)
    load_roster(stack, plan, dbs["kehadiran"])
    nip = plan.nips[0]
    day = past_workdays(1)[0]
    period = day.strftime("%Y-%m")

    producer = make_producer(kafka_bootstrap, client_id="faults-poison")
    sent: dict[str, list[bytes]] = {}
    poison_at: dict[str, tuple[int, int]] = {}  # topic → (partition, last poison offset)
    for base in TOPICS:
        sent[base] = poisons(base, nip)
        for value in sent[base]:
            meta = producer.send(f"{topic_prefix}.{base}", key=nip.encode(), value=value).get(timeout=30)
            poison_at[base] = (meta.partition, meta.offset)

    # the good events after them, for the same ASN
    # pegawai.v1: the roster moves the ASN to another unit
    moved = parse_roster(plan.roster_csv().replace(f"{nip},ASN 100,faults-poison,Umum", f"{nip},ASN 100,faults-poison,Bidang GTK"))
    publish([e for e in moved.events if e.subject == nip], kafka_bootstrap, topic_prefix)
    # kehadiran.v1: a late arrival through the API (kehadiran's relay publishes it): TL1 + PSW4
    r = requests.post(f"{stack.url('kehadiran')}/api/v1/punches", headers=device_token(plan.agency, plan.devices[0]),
                      json={"punches": [{"pin": "100", "time": datetime.combine(day, time(7, 45), WIB).isoformat()}]},
                      timeout=10)
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    # tugas.v1: a task approved on time, quantity 10/10, quality 90 → productivity (100+90+100)/3
    at = datetime.combine(day, time(10), WIB)
    task = make_event(TASK_APPROVED, subject=nip, agency=plan.agency, source="faults/tugas", data={
        "task_id": f"task-{uuid.uuid4()}", "nip": nip, "title": "Rekap", "status": "approved", "due_date": day,
        "target_quantity": "10", "realised_quantity": "10", "quality": 90, "submitted_at": at, "approved_at": at})
    # penilaian.v1: a score update as penilaian publishes them
    update = make_event(SCORE_UPDATED, subject=nip, agency=plan.agency, source="faults/penilaian", data={
        "nip": nip, "period": "2020-01", "disiplin": 100.0, "predikat": "Belum dinilai"})
    # kehadiran.v1 again: a discipline alert (notifikasi skips punches and day summaries unread)
    alert = make_event(DISCIPLINE_ALERT, subject=nip, agency=plan.agency, source="faults/kehadiran", data={
        "nip": nip, "year": day.year, "kind": "cumulative", "days": 3, "threshold": 3, "date": day})
    for base, event in (("tugas.v1", task), ("penilaian.v1", update), ("kehadiran.v1", alert)):
        producer.send(f"{topic_prefix}.{base}", key=event.key, value=event.to_bytes()).get(timeout=30)
    producer.close()

    # each reader applied something after the poison on that partition
    def applied_after(service: str, base: str) -> bool:
        partition, offset = poison_at[base]
        return dbs[service].scalar(
            'SELECT count(*) FROM processed_events WHERE topic = :t AND "partition" = :p AND "offset" > :o',
            t=f"{topic_prefix}.{base}", p=partition, o=offset) > 0

    pending = {(s, b) for b, readers in READERS.items() for s in readers}
    try:
        wait_until(lambda: check_alive(stack) or not {x for x in pending if not applied_after(*x)}, 90, interval_s=0.2,
                   message="every reader applying the good event after the poison")
    finally:
        applied = {x for x in pending if applied_after(*x)}
        seen = {s: db.rows('SELECT topic, "partition", max("offset") FROM processed_events GROUP BY 1, 2')
                for s, db in dbs.items()}
        print(f"poison at {poison_at}; not applied after it: {sorted(pending - applied)}; processed: {seen}")

    # and the good events did what they say
    def effects() -> bool:
        s = score(stack, nip, period) or {}
        return (s.get("disiplin", {}).get("score") == 97.5 and s.get("produktivitas") is not None
                and Decimal(str(s["produktivitas"])).quantize(Decimal("0.01")) == Decimal("96.67")
                and dbs["kehadiran"].scalar("SELECT unit FROM employees WHERE nip = :n", n=nip) == "Bidang GTK"
                and dbs["penilaian"].scalar("SELECT unit FROM employees WHERE nip = :n", n=nip) == "Bidang GTK")
    wait_until(lambda: check_alive(stack) or effects(), 60, interval_s=0.3, message="the good events' effects in penilaian and kehadiran")
    for event in (update, alert, task):
        assert dbs["notifikasi"].scalar("SELECT count(*) FROM processed_events WHERE event_id = :i", i=event.id) == 1

    # the DLQs: every reader dead-lettered exactly the three poisons, with the reason
    dlq_count = {}
    for base in TOPICS:
        want_groups = {f"{topic_prefix}.{g}" for g in READERS[base]}
        expected = {f"{topic_prefix}.{g}": dead_lettered_by(g, base, sent[base]) for g in READERS[base]}

        def by_group():
            out: dict[str, list] = {}
            for rec in read_topic(kafka_bootstrap, f"{topic_prefix}.{base}.dlq"):
                headers = {k: v.decode() for k, v in rec.headers}
                out.setdefault(headers["consumer_group"], []).append((rec.value, headers))
            return out if want_groups <= set(out) and all(len(out[g]) >= len(expected[g]) for g in want_groups) else None

        groups = wait_until(by_group, 60, interval_s=0.5, message=f"the poison of {base} in its DLQ")
        dlq_count[base] = sum(len(v) for v in groups.values())
        for group, entries in groups.items():
            values = [v for v, _ in entries]
            assert set(values) <= set(sent[base]), f"{group} dead-lettered a good event of {base}"
            if group in want_groups:
                assert sorted(values) == sorted(expected[group]), (group, base, len(values))
            for _, headers in entries:
                assert headers["original_topic"] == f"{topic_prefix}.{base}"
                assert headers["error"], headers
        reasons = " | ".join(h["error"] for entries in groups.values() for _, h in entries)
        assert "not JSON" in reasons and "bad data" in reasons, reasons
        if any(len(expected[g]) == 3 for g in want_groups):
            assert "unknown event type" in reasons, reasons

    good = len(pending)
    fault_report.add(request.node.nodeid, "poison on every topic (3 kinds each)", events_in=good,
                     scored=len(applied), duplicates=0, duplicates_in_scores=0, losses=good - len(applied),
                     expected="DESIGN §6 rules, written out",
                     note=f"events = (reader, topic) pairs that had to apply the good event after the poison; "
                          f"DLQ records per topic (the poisons each reader reads): {dlq_count}")
    for db in dbs.values():
        db.close()
