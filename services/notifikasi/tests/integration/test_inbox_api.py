"""``GET /api/v1/notifications`` and ``POST /api/v1/notifications/<id>/read``: one's own inbox only."""
import pytest
import requests

from kinerja_testkit.notifikasi import ASN, ATASAN, OTHER, score_event, token

pytestmark = pytest.mark.integration


def auth(nip=ASN, **kw):
    return {"Authorization": "Bearer " + token(nip, **kw)}


def test_own_inbox_newest_first_with_paging_and_unread_filter(server, writer):
    writer.roster()
    ids = [writer.apply(score_event(ASN, total=t))[0]["id"] for t in (90.0, 91.0, 92.0)]
    writer.apply(score_event(OTHER, total=50.0))
    url = server.url + "/api/v1/notifications"
    page = requests.get(url, headers=auth(), params={"limit": 2}, timeout=10).json()
    assert [n["id"] for n in page["items"]] == [ids[2], ids[1]]
    assert page["unread"] == 3 and page["next_before_id"] == ids[1]
    rest = requests.get(url, headers=auth(), params={"limit": 2, "before_id": ids[1]}, timeout=10).json()
    assert [n["id"] for n in rest["items"]] == [ids[0]] and rest["next_before_id"] is None
    assert all(n["recipient_nip"] == ASN for n in page["items"] + rest["items"])

    r = requests.post(f"{url}/{ids[1]}/read", headers=auth(), timeout=10)
    assert r.status_code == 200 and r.json()["read_at"] is not None
    first_read = r.json()["read_at"]
    assert requests.post(f"{url}/{ids[1]}/read", headers=auth(), timeout=10).json()["read_at"] == first_read
    unread = requests.get(url, headers=auth(), params={"unread": "true"}, timeout=10).json()
    assert [n["id"] for n in unread["items"]] == [ids[2], ids[0]] and unread["unread"] == 2

    # the supervisor sees the team's rows in their own inbox, not the ASN's
    boss = requests.get(url, headers=auth(ATASAN, role="atasan"), timeout=10).json()
    assert {n["subject_nip"] for n in boss["items"]} == {ASN, OTHER}
    assert all(n["recipient_nip"] == ATASAN for n in boss["items"])


def test_nobody_reads_or_marks_another_persons_inbox(server, writer):
    writer.roster()
    [mine, _boss] = writer.apply(score_event(ASN))
    url = server.url + "/api/v1/notifications"
    assert requests.post(f"{url}/{mine['id']}/read", headers=auth(OTHER), timeout=10).status_code == 404
    assert requests.get(url, headers=auth(OTHER), timeout=10).json()["items"] == []
    # same NIP, another agency's token: not the same inbox
    assert requests.get(url, headers=auth(ASN, agency="other-agency"), timeout=10).json()["items"] == []
    # an admin is a person with an inbox too, but only their own
    assert requests.get(url, headers=auth(OTHER, role="admin"), timeout=10).json()["items"] == []
    assert requests.post(f"{url}/{mine['id']}/read", headers=auth(OTHER, role="admin"), timeout=10).status_code == 404
    assert requests.get(url, headers=auth(), timeout=10).json()["items"][0]["read_at"] is None


def test_bad_paging_arguments_are_a_4xx(server):
    url = server.url + "/api/v1/notifications"
    assert requests.get(url, headers=auth(), params={"limit": 0}, timeout=10).status_code == 422
    assert requests.get(url, headers=auth(), params={"before_id": "x"}, timeout=10).status_code == 422


def test_openapi_documents_the_stream(server):
    spec = requests.get(server.url + "/openapi.json", timeout=10).json()
    assert "/api/v1/stream" in spec["paths"] and "/api/v1/notifications/{notification_id}/read" in spec["paths"]
