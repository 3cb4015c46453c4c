"""``GET /api/v1/stream`` on a real HTTP server (werkzeug, threaded), SQLite and PostgreSQL: live
delivery, resume with Last-Event-ID, isolation between users, heartbeats, clean disconnects."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from kinerja.testing import wait_until
from kinerja_testkit.notifikasi import ASN, ATASAN, OTHER, SseClient, score_event, token

pytestmark = pytest.mark.integration


def stream_url(server) -> str:
    return server.url + "/api/v1/stream"


def test_401_without_a_token(server):
    for method, path in [("get", "/api/v1/stream"), ("get", "/api/v1/notifications"),
                         ("post", "/api/v1/notifications/1/read")]:
        r = requests.request(method, server.url + path, timeout=10)
        assert r.status_code == 401, path
        assert r.json()["code"] == 401
    bad = requests.get(stream_url(server), params={"access_token": "not-a-jwt"}, timeout=10)
    assert bad.status_code == 401


def test_a_device_token_has_no_inbox(server):
    r = requests.get(stream_url(server), headers={"Authorization": "Bearer " + token(
        nip=None, role="device", device_sn="SN1")}, timeout=10)
    assert r.status_code == 403


def test_bad_last_event_id(server):
    r = requests.get(stream_url(server), headers={"Authorization": "Bearer " + token(), "Last-Event-ID": "abc"},
                     timeout=10)
    assert r.status_code == 400


def test_live_notifications_reach_their_recipients_only(server, writer):
    writer.roster()
    with SseClient(stream_url(server), token=token(ASN)) as mine, \
            SseClient(stream_url(server), params={"access_token": token(OTHER)}) as other, \
            SseClient(stream_url(server), token=token(ATASAN, role="atasan")) as boss:
        assert mine.response.status_code == 200
        assert mine.response.headers["Content-Type"].startswith("text/event-stream")
        rows = writer.apply(score_event(ASN))
        got = mine.next_event()
        assert got["id"] == rows[0]["id"] and got["event"] == "score.updated"
        assert got["data"]["body"].startswith("Skor kinerja Anda berubah: 97.5 (Baik)")
        assert got["data"]["recipient_nip"] == ASN and got["data"]["payload"]["predikat"] == "Baik"
        team = boss.next_event()
        assert team["id"] == rows[1]["id"] and team["data"]["audience"] == "atasan"
        # the other ASN's first event is their own, later one: the ASN's row was never sent there
        [marker, _] = writer.apply(score_event(OTHER, total=80.0))
        assert other.next_event()["id"] == marker["id"]
        assert mine.events.empty()
        assert boss.next_event()["data"]["subject_nip"] == OTHER


def test_resume_with_last_event_id_sends_exactly_what_was_missed(server, writer):
    writer.roster()
    with SseClient(stream_url(server), token=token(ASN)) as first:
        seen = writer.apply(score_event(ASN, total=90.0))[0]
        assert first.next_event()["id"] == seen["id"]
    wait_until(lambda: server.runtime.tailer.subscriber_count() == 0, 10, message="first stream closed")
    missed = [writer.apply(score_event(ASN, total=t))[0]["id"] for t in (91.0, 92.0)]
    writer.apply(score_event(OTHER, total=70.0))  # not theirs
    with SseClient(stream_url(server), token=token(ASN), last_event_id=seen["id"]) as again:
        assert [again.next_event()["id"] for _ in missed] == missed
        live = writer.apply(score_event(ASN, total=93.0))[0]
        nxt = again.next_event()
        assert nxt["id"] == live["id"] and nxt["data"]["payload"]["total"] == 93.0
        assert again.events.empty()
    # the query parameter works as well, for a first connection
    with SseClient(stream_url(server), token=token(ASN), params={"last_event_id": missed[0]}) as third:
        assert [third.next_event()["id"] for _ in range(2)] == [missed[1], live["id"]]


def test_heartbeats_and_clean_disconnects(server, writer):
    tailer = server.runtime.tailer
    clients = [SseClient(stream_url(server), token=token(ASN)) for _ in range(5)]
    wait_until(lambda: tailer.subscriber_count() == 5, 10, message="five subscribers")
    assert clients[0].next_comment() == "terhubung"
    assert clients[0].next_comment(timeout_s=5) == "heartbeat"
    for c in clients:
        c.close()
    # each generator notices at its next heartbeat write and unsubscribes
    wait_until(lambda: tailer.subscriber_count() == 0, 10, message="subscriptions removed")
    # the one tailer keeps serving new clients
    with SseClient(stream_url(server), token=token(ASN)) as c:
        writer.roster()
        row = writer.apply(score_event(ASN))[0]
        assert c.next_event()["id"] == row["id"]
    assert tailer.running


def test_many_streams_one_tailer(server, writer):
    """200 open streams of 20 people: one tailer serves them all, each stream gets its own only."""
    nips = [f"1990010120150310{i:02d}" for i in range(20)]
    clients = {nip: [SseClient(stream_url(server), token=token(nip)) for _ in range(10)] for nip in nips}
    tailer = server.runtime.tailer
    try:
        wait_until(lambda: tailer.subscriber_count() == 200, 30, message="200 subscribers")
        read_before, delivered_before = tailer.stats.rows, tailer.stats.delivered
        rows = {nip: writer.apply(score_event(nip))[0]["id"] for nip in nips}
        for nip, group in clients.items():
            for c in group:
                assert c.next_event(timeout_s=20)["id"] == rows[nip]
        # each row was read from the database once and handed to its person's 10 streams
        assert tailer.stats.rows - read_before == 20
        assert tailer.stats.delivered - delivered_before == 200
    finally:
        # a close waits for its reader thread's read (up to a heartbeat): close them side by side
        with ThreadPoolExecutor(50) as pool:
            list(pool.map(SseClient.close, [c for group in clients.values() for c in group]))
