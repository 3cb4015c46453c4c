"""BerAKHLAK ratings through the API: who may rate, side by side with the gap flag, and the
supervisor's rating moving perilaku kerja, the total and the predikat (SQLite and PostgreSQL)."""
from datetime import date
from decimal import Decimal as D

import pytest

from kinerja.events.penilaian import SCORE_UPDATED
from kinerja.events.tugas import TASK_APPROVED
from kinerja.webapp import runtime_of
from penilaian.entrypoints.app import create_app
from kinerja_testkit.penilaian import ATASAN, KEPALA, OTHER_ATASAN, PEG1, PEG2, at, day_event, task_event

pytestmark = pytest.mark.integration

ALL_MEETS = {v: "meets" for v in ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal",
                                 "adaptif", "kolaboratif")}


@pytest.fixture
def client(penilaian):
    penilaian.seed_roster()
    due = date(2026, 11, 10)
    penilaian.apply(
        day_event(PEG1, date(2026, 11, 3), ("TK", "4")),  # disiplin 96
        task_event(TASK_APPROVED, PEG1, "x", "approved", due, at=at(due), realised="10", quality=85,
                   submitted_at=at(due), approved_at=at(due)),  # 95
    )
    app = create_app({"database_url": penilaian.url})
    c = app.test_client()

    def call(method, nip, role, target, body=None, period="2026-11"):
        headers = {"Authorization": f"Bearer {penilaian.token(nip, role)}"}
        return c.open(f"/api/v1/ratings/{target}?period={period}", method=method, headers=headers, json=body)

    call.p = penilaian
    call.app_client = c
    yield call
    runtime_of(app).dispose()


def test_the_supervisor_rating_moves_perilaku_and_the_predikat(client):
    p = client.p
    assert p.score(PEG1, "2026-11").predikat == "Sangat Baik"  # 95 and 96
    r = client("PUT", ATASAN, "atasan", PEG1, {"levels": ALL_MEETS})
    assert r.status_code == 200, r.json
    assert r.json["supervisor"]["rated_by"] == ATASAN and r.json["self"] is None
    row = p.score(PEG1, "2026-11")
    # BerAKHLAK 80; perilaku (96 + 80) / 2 = 88 → meets; total 0.6 × 95 + 0.4 × 88 = 92.2; above × meets = Baik
    assert (row.berakhlak, row.perilaku, row.total, row.predikat) == (D("80.00"), D("88.00"), D("92.20"), "Baik")
    rating_entry = [e for e in row.detail["ledger"] if e["rule"].startswith("Nilai BerAKHLAK")][0]
    assert rating_entry["event_ids"] == [r.json["supervisor"]["rating_id"]]
    last = [e["data"] for e in p.outbox() if e["type"] == SCORE_UPDATED and e["data"]["period"] == "2026-11"][-1]
    assert last["caused_by"] == [r.json["supervisor"]["rating_id"]] and last["predikat"] == "Baik"
    # the quarter is rated on its own
    assert p.score(PEG1, "2026-Q4").berakhlak is None


def test_the_score_names_the_predikat_matrix_cell_and_cut_offs(client):
    """Issue 19 item 5: a higher total with a lower predikat says why, in the API and the ledger."""
    assert client("PUT", ATASAN, "atasan", PEG1, {"levels": ALL_MEETS}).status_code == 200
    r = client.app_client.get(f"/api/v1/scores/{PEG1}?period=2026-11",
                              headers={"Authorization": f"Bearer {client.p.token(PEG1, 'pegawai')}"})
    assert r.status_code == 200, r.json
    assert (r.json["total"], r.json["predikat"]) == (92.2, "Baik")
    assert r.json["predikat_basis"] == {
        "hasil_kerja": 95.0, "hasil_kerja_level": "above", "perilaku": 88.0, "perilaku_level": "meets",
        "above_from": 90.0, "meets_from": 70.0, "predikat": "Baik",
        "rule": "Predikat Baik menurut matriks PermenPANRB 6/2022: hasil kerja 95 di atas ekspektasi (≥ 90) × "
                "perilaku kerja 88 sesuai ekspektasi (≥ 70 dan < 90)"}
    last = r.json["ledger"][-1]
    assert (last["component"], last["points"], last["rule"]) == ("predikat", 0.0, r.json["predikat_basis"]["rule"])


def test_self_rating_side_by_side_flags_two_levels_apart(client):
    assert client("PUT", ATASAN, "atasan", PEG1, {"levels": {**ALL_MEETS, "akuntabel": "below"}}).status_code == 200
    r = client("PUT", PEG1, "pegawai", PEG1, {"levels": {"akuntabel": "above", "loyal": "above"}})
    assert r.status_code == 200, r.json
    values = {v["value"]: v for v in r.json["values"]}
    assert values["akuntabel"] == {"value": "akuntabel", "supervisor": "below", "self": "above", "gap": 2,
                                   "dialog_needed": True, "dialog_id": None}
    assert values["loyal"]["gap"] == 1 and not values["loyal"]["dialog_needed"]
    assert r.json["dialog_needed"] is True
    # the ASN's own rating does not change the score
    assert client.p.score(PEG1, "2026-11").berakhlak == D("77.14")  # (6 × 80 + 60) / 7
    seen = client("GET", ATASAN, "atasan", PEG1)
    assert seen.status_code == 200 and seen.json["self"]["levels"] == {"akuntabel": "above", "loyal": "above"}


def test_a_dialog_kinerja_answers_the_gap_and_is_named(client):
    """Issue 19 item 4: once the dialog is recorded the rating no longer asks for one and points at it;
    a dialog about another value does not answer this one, and a later rating asks again."""
    assert client("PUT", ATASAN, "atasan", PEG1, {"levels": {**ALL_MEETS, "akuntabel": "below", "loyal": "below"}}
                  ).status_code == 200
    assert client("PUT", PEG1, "pegawai", PEG1, {"levels": {"akuntabel": "above", "loyal": "above"}}).status_code == 200

    def dialog(values):
        r = client.app_client.post(f"/api/v1/dialogs/{PEG1}?period=2026-11", json={
            "date": "2026-11-20", "notes": "Membahas akuntabilitas laporan", "follow_up": "Pelatihan SAKIP",
            "values": values}, headers={"Authorization": f"Bearer {client.p.token(ATASAN, 'atasan')}"})
        assert r.status_code == 201, r.json
        return r.json["dialogs"][-1]["id"]

    first = dialog(["loyal"])
    r = client("GET", PEG1, "pegawai", PEG1)
    values = {v["value"]: v for v in r.json["values"]}
    assert (values["loyal"]["dialog_needed"], values["loyal"]["dialog_id"]) == (False, first)
    assert (values["akuntabel"]["dialog_needed"], values["akuntabel"]["dialog_id"]) == (True, None)
    assert r.json["dialog_needed"] is True
    second = dialog(["akuntabel"])
    r = client("GET", ATASAN, "atasan", PEG1)
    values = {v["value"]: v for v in r.json["values"]}
    assert values["akuntabel"]["dialog_id"] == second and not values["akuntabel"]["dialog_needed"]
    assert r.json["dialog_needed"] is False
    assert [d["id"] for d in r.json["dialogs_held"]] == sorted([first, second])
    assert {d["follow_up"] for d in r.json["dialogs_held"]} == {"Pelatihan SAKIP"}
    # the ASN rates again, still two levels apart: the dialogs came before it, so one is asked for again
    assert client("PUT", PEG1, "pegawai", PEG1, {"levels": {"akuntabel": "above", "loyal": "meets"}}).status_code == 200
    r = client("GET", PEG1, "pegawai", PEG1)
    values = {v["value"]: v for v in r.json["values"]}
    assert (values["akuntabel"]["dialog_needed"], values["akuntabel"]["dialog_id"]) == (True, None)
    assert values["loyal"]["gap"] == 1 and values["loyal"]["dialog_id"] is None


@pytest.mark.parametrize("nip,role,target,expected", [
    (PEG2, "pegawai", PEG1, 403),  # a colleague
    (OTHER_ATASAN, "atasan", PEG1, 403),  # not the direct supervisor
    (KEPALA, "admin", PEG1, 403),  # an admin who is not the direct supervisor does not rate
])
def test_only_the_asn_and_the_direct_supervisor_rate(client, nip, role, target, expected):
    assert client("PUT", nip, role, target, {"levels": ALL_MEETS}).status_code == expected
    assert client.p.score(PEG1, "2026-11").berakhlak is None


@pytest.mark.parametrize("body", [{"levels": {}}, {"levels": {"jujur": "meets"}}, {"levels": {"loyal": "great"}}, {}])
def test_bad_ratings_are_400_and_change_nothing(client, body):
    r = client("PUT", ATASAN, "atasan", PEG1, body)
    assert r.status_code == 400, r.json
    assert client("GET", PEG1, "pegawai", PEG1).json["supervisor"] is None


def test_an_admin_who_supervises_rates_and_reads_the_team_with_one_token(client):
    """Issue 19 item 7: roles compose. ATASAN holds an admin token and supervises PEG1 on the
    roster: the rating counts as the supervisor's, and the team view is theirs to read."""
    r = client("PUT", ATASAN, "admin", PEG1, {"levels": ALL_MEETS})
    assert r.status_code == 200, r.json
    assert r.json["supervisor"]["rated_by"] == ATASAN and r.json["self"] is None
    assert client.p.score(PEG1, "2026-11").berakhlak == D("80.00")
    team = client.app_client.get(f"/api/v1/teams/{ATASAN}/scores?period=2026-11",
                                 headers={"Authorization": f"Bearer {client.p.token(ATASAN, 'admin')}"})
    assert team.status_code == 200 and {m["nip"] for m in team.json["members"]} == {PEG1, PEG2}
