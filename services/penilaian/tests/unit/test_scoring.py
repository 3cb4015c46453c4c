"""The scoring rules of DESIGN section 6, with numbers worked out by hand."""
from datetime import date, datetime, timezone
from decimal import Decimal as D
from itertools import permutations

import pytest

from penilaian.domain.periods import BadPeriod, parse_period, periods_containing
from penilaian.domain.scoring import (
    BERAKHLAK_VALUES,
    DayDeduction,
    DayFact,
    InnovationFact,
    Rating,
    TaskFact,
    compute_score,
    fmt,
    predikat,
    score_task,
    task_state_key,
)

pytestmark = pytest.mark.unit

NOV = parse_period("2026-11")


def day(d, *deds, eid=None, punches=(), workday=True):
    return DayFact(day=d, event_id=eid or f"day-{d.isoformat()}", workday=workday,
                   deductions=tuple(DayDeduction(c, D(p)) for c, p in deds), punch_event_ids=tuple(punches))


def task(tid, due, status="approved", target="10", realised="10", quality=100, submitted=None, approved=None,
         overdue=False):
    return TaskFact(task_id=tid, title=f"Tugas {tid}", status=status, due_date=due, target_quantity=D(target),
                    event_id=f"ev-{tid}", realised_quantity=D(realised) if realised is not None else None,
                    quality=quality, submitted_on=submitted, approved_on=approved, overdue=overdue)


# -- periods -----------------------------------------------------------------------------------
def test_periods_parse_months_quarters_years():
    assert (NOV.start, NOV.end, NOV.kind) == (date(2026, 11, 1), date(2026, 11, 30), "month")
    q4 = parse_period("2026-Q4")
    assert (q4.start, q4.end, q4.name) == (date(2026, 10, 1), date(2026, 12, 31), "2026-Q4")
    feb = parse_period("2028-02")
    assert feb.end == date(2028, 2, 29)
    y = parse_period("2026")
    assert (y.start, y.end) == (date(2026, 1, 1), date(2026, 12, 31))
    assert [p.name for p in periods_containing(date(2026, 11, 3))] == ["2026-11", "2026-Q4", "2026"]


@pytest.mark.parametrize("bad", ["", "2026-13", "2026-00", "2026-Q5", "26-11", "2026-1", "2026-11-01", "abcd"])
def test_bad_periods_are_refused(bad):
    with pytest.raises(BadPeriod):
        parse_period(bad)


# -- disiplin ----------------------------------------------------------------------------------
def test_disiplin_is_100_minus_the_deductions_and_the_ledger_explains_it():
    days = [
        day(date(2026, 11, 3), ("TL2", "1"), punches=("p1", "p2")),
        day(date(2026, 11, 4), ("TL1", "0.5"), ("PSW1", "0.5")),
        day(date(2026, 11, 5)),
        day(date(2026, 11, 6), ("TK", "4")),
        day(date(2026, 10, 30), ("TK", "4")),  # another month
    ]
    s = compute_score(NOV, days=days)
    assert s.disiplin == D("94.00")
    assert [(d.isoformat(), x.code, x.percent) for d, x in s.deductions] == [
        ("2026-11-03", "TL2", D("1")), ("2026-11-04", "PSW1", D("0.5")), ("2026-11-04", "TL1", D("0.5")),
        ("2026-11-06", "TK", D("4"))]
    ledger = [e for e in s.ledger if e.component == "disiplin"]
    assert ledger[0].points == D("100") and ledger[0].rule == "Nilai awal disiplin 2026-11: 100"
    assert ledger[1].rule == "TL2 pada 2026-11-03: −1 %"
    assert ledger[1].event_ids == ("day-2026-11-03", "p1", "p2")
    assert ledger[2].rule == "PSW1 pada 2026-11-04: −0,5 %"
    assert s.ledger_sum("disiplin") == s.disiplin
    # the quarter holds October's TK as well
    assert compute_score(parse_period("2026-Q4"), days=days).disiplin == D("90.00")


def test_disiplin_is_not_rated_without_a_known_workday():
    assert compute_score(NOV).disiplin is None
    weekend = compute_score(NOV, days=[day(date(2026, 11, 7), workday=False)])
    assert weekend.disiplin is None and weekend.predikat == "Belum dinilai" and weekend.total is None
    assert weekend.ledger == ()


def test_disiplin_does_not_go_below_zero_and_the_ledger_still_sums():
    days = [day(date(2026, 11, d), ("TK", "4")) for d in range(1, 27)]  # 26 × 4 % = 104 %
    s = compute_score(NOV, days=days)
    assert s.disiplin == D("0.00")
    last = [e for e in s.ledger if e.component == "disiplin"][-1]
    assert last.rule == "Nilai disiplin tidak di bawah 0" and last.points == D("4")
    assert s.ledger_sum("disiplin") == 0


# -- tasks and produktivitas -------------------------------------------------------------------
def test_task_score_is_the_mean_of_quantity_quality_and_timeliness():
    # 8 of 10 = 80; quality 90; submitted two days late = 100 − 20 = 80 → 250 / 3 = 83.33
    t = score_task(task("a", date(2026, 11, 10), realised="8", quality=90, submitted=date(2026, 11, 12),
                        approved=date(2026, 11, 20)))
    assert (t.quantity, t.quality, t.timeliness, t.score) == (D("80.00"), D("90"), D("80"), D("83.33"))
    # over-achievement is capped at 100; on time (a slow approval does not make it late)
    t = score_task(task("b", date(2026, 11, 10), realised="12", quality=70, submitted=date(2026, 11, 10),
                        approved=date(2026, 11, 25)))
    assert (t.quantity, t.timeliness, t.score) == (D("100"), D("100"), D("90.00"))
    # no submission recorded: the approval date counts; twelve days late → 0, not below
    t = score_task(task("c", date(2026, 11, 10), realised="10", quality=100, approved=date(2026, 11, 22)))
    assert (t.timeliness, t.score) == (D("0"), D("66.67"))
    # open and not yet due: does not count; cancelled: never counts; past due, unapproved: 0
    assert score_task(task("d", date(2026, 11, 30), status="submitted")) is None
    assert score_task(task("e", date(2026, 11, 3), status="cancelled", overdue=True)) is None
    assert score_task(task("f", date(2026, 11, 3), status="returned", overdue=True)).score == 0


def test_produktivitas_is_the_mean_of_tasks_due_plus_capped_innovation():
    tasks = [
        task("a", date(2026, 11, 10), realised="8", quality=90, submitted=date(2026, 11, 12)),  # 83.33
        task("b", date(2026, 11, 15), submitted=date(2026, 11, 14)),  # 100
        task("c", date(2026, 11, 5), status="assigned", overdue=True),  # 0
        task("d", date(2026, 11, 30), status="in_progress"),  # not due yet: not counted
        task("e", date(2026, 11, 20), status="cancelled"),
        task("f", date(2026, 12, 1)),  # December
    ]
    innovations = [InnovationFact(f"i{n}", f"Inovasi {n}", date(2026, 11, n), f"ev-i{n}") for n in (2, 9, 16)]
    s = compute_score(NOV, tasks=tasks, innovations=innovations)
    # (83.33 + 100 + 0) / 3 = 61.11; three innovations: +5 +5 and the third hits the +10 cap
    assert s.produktivitas == D("71.11") and s.hasil_kerja == D("71.11")
    assert [t.task_id for t in s.tasks] == ["c", "a", "b"]
    p = [e for e in s.ledger if e.component == "produktivitas"]
    assert [e.points for e in p] == [D("0.00"), D("27.78"), D("33.33"), D("5"), D("5"), D("0")]
    assert p[3].rule == 'Inovasi "Inovasi 2" disetujui 2026-11-02: +5' and p[3].event_ids == ("ev-i2",)
    assert "batas +10 sudah tercapai" in p[5].rule
    assert p[1].event_ids == ("ev-a",)
    assert s.ledger_sum("produktivitas") == s.produktivitas


def test_produktivitas_is_capped_at_100_and_not_rated_without_tasks():
    tasks = [task("a", date(2026, 11, 10), submitted=date(2026, 11, 10))]
    innovations = [InnovationFact("i", "Inovasi", date(2026, 11, 2), "ev-i")]
    s = compute_score(NOV, tasks=tasks, innovations=innovations)
    assert s.produktivitas == D("100.00")
    assert s.ledger[-1].rule == "Produktivitas paling tinggi 100" and s.ledger[-1].points == D("-5")
    assert s.predikat == "Belum dinilai"  # no predikat entry closes the ledger: perilaku is unrated
    assert s.ledger_sum("produktivitas") == 100
    only_innovation = compute_score(NOV, innovations=innovations)
    assert only_innovation.produktivitas is None and only_innovation.ledger == ()


def test_rounding_remainder_keeps_the_ledger_equal_to_the_score():
    # 100, 100, 0 → 66.67; each contributes 33.33, 33.33, 0 = 66.66: one cent of rounding
    tasks = [task("a", date(2026, 11, 3)), task("b", date(2026, 11, 4)),
             task("c", date(2026, 11, 5), status="assigned", overdue=True)]
    s = compute_score(NOV, tasks=tasks)
    assert s.produktivitas == D("66.67")
    assert s.ledger[-1].rule == "Pembulatan rata-rata tugas" and s.ledger[-1].points == D("0.01")
    assert s.ledger_sum("produktivitas") == s.produktivitas


# -- perilaku, total, predikat -----------------------------------------------------------------
def test_total_weighs_60_40_and_predikat_needs_both_parts():
    days = [day(date(2026, 11, 3), ("TL2", "1"), ("PSW4", "2")), day(date(2026, 11, 6), ("TK", "3"))]  # 94
    tasks = [task("a", date(2026, 11, 10), realised="8", quality=90, submitted=date(2026, 11, 12)),
             task("b", date(2026, 11, 15)),
             task("c", date(2026, 11, 5), status="assigned", overdue=True)]
    innovations = [InnovationFact("i1", "x", date(2026, 11, 2), "e1"), InnovationFact("i2", "y", date(2026, 11, 3), "e2")]
    s = compute_score(NOV, days=days, tasks=tasks, innovations=innovations)
    assert (s.disiplin, s.perilaku, s.hasil_kerja) == (D("94.00"), D("94.00"), D("71.11"))
    # 0.6 × 71.11 + 0.4 × 94 = 42.666 + 37.6 = 80.266 → 80.27; hasil kerja meets, perilaku above
    assert s.total == D("80.27") and s.predikat == "Baik" and s.total_partial is None
    assert s.ledger_sum("perilaku") == s.perilaku
    assert "BerAKHLAK belum dinilai" in [e for e in s.ledger if e.component == "perilaku"][0].rule
    # only one part rated: the total is not final (None); the provisional one is that part alone,
    # and the predikat waits (DESIGN section 6)
    only_days = compute_score(NOV, days=days)
    assert only_days.total is None and only_days.total_partial == D("94.00")
    assert only_days.predikat == "Belum dinilai"
    only_tasks = compute_score(NOV, tasks=tasks)
    assert only_tasks.total is None and only_tasks.total_partial == D("61.11") and only_tasks.perilaku is None
    nothing = compute_score(NOV)
    assert nothing.total is None and nothing.total_partial is None


def test_berakhlak_joins_discipline_in_perilaku():
    levels = dict(zip(BERAKHLAK_VALUES, ["above", "above", "above", "meets", "meets", "meets", "below"]))
    s = compute_score(NOV, days=[day(date(2026, 11, 3), ("TK", "4"), ("TL2", "1"), ("TL1", "1"))],
                      rating=Rating(levels, "rating-1"))
    # (3 × 100 + 3 × 80 + 60) / 7 = 85.714 → 85.71; (94 + 85.71) / 2 = 89.855 → 89.86
    assert (s.berakhlak, s.perilaku) == (D("85.71"), D("89.86"))
    p = [e for e in s.ledger if e.component == "perilaku"]
    assert p[1].event_ids == ("rating-1",)
    assert s.ledger_sum("perilaku") == s.perilaku


@pytest.mark.parametrize("hk,pk,expected", [
    ("95", "95", "Sangat Baik"), ("95", "80", "Baik"), ("95", "50", "Kurang/Misconduct"),
    ("80", "95", "Baik"), ("70", "70", "Baik"), ("80", "69.99", "Kurang/Misconduct"),
    ("69.99", "95", "Butuh Perbaikan"), ("50", "80", "Butuh Perbaikan"), ("50", "50", "Sangat Kurang"),
    ("90", "89.99", "Baik"),
])
def test_predikat_matrix(hk, pk, expected):
    assert predikat(D(hk), D(pk)) == expected


def test_the_predikat_names_its_matrix_cell_and_the_cut_offs():
    """Issue 19 item 5: 94.03 is "Baik" (perilaku under 90) and 93.2 "Sangat Baik": the ledger says why."""
    tasks = [task("a", date(2026, 11, 3), quality=94)]  # (100 + 94 + 100) / 3 = 98
    baik = compute_score(NOV, days=[day(date(2026, 11, 2), ("TK", "4"), ("TL3", "1.5"), ("TL4", "2"), ("PSW4", "2"),
                                             ("TL2", "1"), ("PSW2", "1"), ("TL1", "0.5"))],
                         tasks=tasks, rating=Rating({v: "meets" for v in BERAKHLAK_VALUES}))
    assert (baik.hasil_kerja, baik.perilaku, baik.predikat) == (D("98.00"), D("84.00"), "Baik")
    entry = baik.ledger[-1]
    assert (entry.component, entry.points) == ("predikat", D("0"))
    assert entry.rule == ("Predikat Baik menurut matriks PermenPANRB 6/2022: hasil kerja 98 di atas ekspektasi (≥ 90) "
                          "× perilaku kerja 84 sesuai ekspektasi (≥ 70 dan < 90)")
    assert baik.ledger_sum("perilaku") == baik.perilaku and baik.ledger_sum("produktivitas") == baik.produktivitas
    sangat = compute_score(NOV, days=[day(date(2026, 11, 2))], tasks=[task("b", date(2026, 11, 3), quality=70)])
    assert (sangat.total, sangat.predikat) == (D("94.00"), "Sangat Baik")
    assert "hasil kerja 90 di atas ekspektasi (≥ 90) × perilaku kerja 100 di atas ekspektasi (≥ 90)" in sangat.ledger[-1].rule
    from penilaian.domain.scoring import Policy, predikat_basis
    basis = predikat_basis(D("88.5"), D("69.99"), Policy(above_from=D("85"), meets_from=D("65")))
    assert (basis["hasil_kerja_level"], basis["perilaku_level"], basis["predikat"]) == ("above", "meets", "Baik")
    assert (basis["above_from"], basis["meets_from"]) == (85.0, 65.0)


def test_predikat_waits_for_both_parts():
    assert predikat(None, D("95")) == predikat(D("95"), None) == "Belum dinilai"


def test_task_state_order_is_a_total_order_whatever_the_arrival():
    t = lambda h: datetime(2026, 11, 10, h, tzinfo=timezone.utc)  # noqa: E731
    states = [("assigned", t(1), "e1"), ("submitted", t(2), "e2"), ("returned", t(3), "e3"),
              ("submitted", t(4), "e4"), ("approved", t(5), "e5"), ("overdue-ish", t(6), "e6")]
    winners = {max(p, key=lambda s: task_state_key(*s)) for p in permutations(states)}
    assert winners == {("approved", t(5), "e5")}
    # among open states the latest wins; cancellation beats open states
    assert max(states[:4], key=lambda s: task_state_key(*s))[2] == "e4"
    assert max([*states[:4], ("cancelled", t(0), "e0")], key=lambda s: task_state_key(*s))[2] == "e0"


def test_numbers_read_the_indonesian_way():
    assert (fmt(D("1.00")), fmt(D("0.5")), fmt(D("87.33")), fmt(D("100"))) == ("1", "0,5", "87,33", "100")


def test_ratings_side_by_side_flag_two_levels_apart():
    from penilaian.domain.scoring import compare_ratings

    sup = {"akuntabel": "below", "kompeten": "meets", "loyal": "above"}
    own = {"akuntabel": "above", "kompeten": "above", "adaptif": "meets"}
    rows = {r.value: r for r in compare_ratings(sup, own)}
    assert list(rows) == list(BERAKHLAK_VALUES)
    assert (rows["akuntabel"].gap, rows["akuntabel"].dialog_needed) == (2, True)
    assert (rows["kompeten"].gap, rows["kompeten"].dialog_needed) == (1, False)
    assert (rows["loyal"].self, rows["loyal"].gap, rows["loyal"].dialog_needed) == (None, None, False)
    assert rows["adaptif"].supervisor is None and rows["berorientasi_pelayanan"].gap is None
