"""SKP rules: RHK with indicators, cascading links, draft → submitted → approved (a revision) or returned."""
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from tugas.domain import skp as rules
from tugas.domain.errors import IllegalTransition, InvalidInput, NotAllowed
from tugas.domain.skp import Indicator, Rhk

pytestmark = pytest.mark.unit

ATASAN, PEG, OTHER = "198501012010011002", "199501012020011003", "198601012010011005"
AT = datetime(2026, 1, 10, 2, 0, tzinfo=timezone.utc)
IND = Indicator("Jumlah laporan", Decimal(12), "laporan", 90, "12 bulan")


def rhk(id="r1", kind="main", parent=None, indicators=(IND,), text="Laporan kinerja tersusun"):
    return Rhk(id=id, kind=kind, text=text, indicators=tuple(indicators), parent_rhk_id=parent)


def drafted(rhks=(rhk(),), parents=frozenset({"a1"})):
    return rules.draft(skp_id="s1", nip=PEG, year=2026, atasan_nip=ATASAN, rhks=tuple(rhks), supervisor_rhk_ids=parents)


def test_draft_submit_approve_counts_revisions():
    skp = drafted((rhk(parent="a1"), rhk("r2", "additional")))
    assert (skp.status, skp.revision) == ("draft", 0)
    skp = rules.submit(skp, actor_nip=PEG)
    skp = rules.approve(skp, actor_nip=ATASAN, supervisor_nip=ATASAN, at=AT, note="ok")
    assert (skp.status, skp.revision, skp.approved_at) == ("approved", 1, AT)
    again = rules.edit(skp, actor_nip=PEG, rhks=(rhk(text="Diubah"),), supervisor_rhk_ids=frozenset())
    assert (again.status, again.revision) == ("draft", 1)
    again = rules.approve(rules.submit(again, actor_nip=PEG), actor_nip=ATASAN, supervisor_nip=ATASAN, at=AT)
    assert again.revision == 2


@pytest.mark.parametrize("bad", [
    rhk(kind="other"), rhk(text=" "), rhk(indicators=()),
    rhk(indicators=(replace(IND, target_quantity=Decimal(0)),)),
    rhk(indicators=(replace(IND, unit=""),)),
    rhk(indicators=(replace(IND, quality_target=101),)),
    rhk(parent="not-my-bosses"),
])
def test_bad_rhk_refused(bad):
    with pytest.raises(InvalidInput):
        drafted((bad,))


def test_submit_needs_a_main_rhk_and_the_owner():
    with pytest.raises(InvalidInput):
        rules.submit(drafted((rhk(kind="additional"),)), actor_nip=PEG)
    with pytest.raises(NotAllowed):
        rules.submit(drafted(), actor_nip=ATASAN)


def test_only_the_supervisor_decides_and_return_needs_a_note():
    skp = rules.submit(drafted(), actor_nip=PEG)
    for actor, sup in ((OTHER, ATASAN), (PEG, ATASAN), (ATASAN, None)):
        with pytest.raises(NotAllowed):
            rules.approve(skp, actor_nip=actor, supervisor_nip=sup, at=AT)
    with pytest.raises(InvalidInput):
        rules.return_for_revision(skp, actor_nip=ATASAN, supervisor_nip=ATASAN, note=" ")
    returned = rules.return_for_revision(skp, actor_nip=ATASAN, supervisor_nip=ATASAN, note="tambah indikator")
    assert returned.status == "returned" and rules.submit(returned, actor_nip=PEG).status == "submitted"


def test_illegal_transitions():
    skp = drafted()
    with pytest.raises(IllegalTransition):
        rules.approve(skp, actor_nip=ATASAN, supervisor_nip=ATASAN, at=AT)
    submitted = rules.submit(skp, actor_nip=PEG)
    with pytest.raises(IllegalTransition):
        rules.edit(submitted, actor_nip=PEG, rhks=(rhk(),), supervisor_rhk_ids=frozenset())
    with pytest.raises(IllegalTransition):
        rules.submit(submitted, actor_nip=PEG)
    approved = rules.approve(submitted, actor_nip=ATASAN, supervisor_nip=ATASAN, at=AT)
    with pytest.raises(IllegalTransition):
        rules.return_for_revision(approved, actor_nip=ATASAN, supervisor_nip=ATASAN, note="x")
