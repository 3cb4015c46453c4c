"""The predikat (PermenPANRB 6/2022's matrix of hasil kerja and perilaku kerja levels), why it is
what it is, and the weighted total of the rated parts."""
from __future__ import annotations

from decimal import Decimal
from typing import Mapping

from penilaian.domain.decimals import ZERO, fmt, q2
from penilaian.domain.levels import ABOVE, BELOW, LEVEL_LABELS, MEETS
from penilaian.domain.score_policy import DEFAULT_POLICY, Policy

BELUM_DINILAI = "Belum dinilai"

# PermenPANRB 6/2022: PREDIKAT[hasil kerja level][perilaku level]
PREDIKAT: Mapping[str, Mapping[str, str]] = {
    ABOVE: {BELOW: "Kurang/Misconduct", MEETS: "Baik", ABOVE: "Sangat Baik"},
    MEETS: {BELOW: "Kurang/Misconduct", MEETS: "Baik", ABOVE: "Baik"},
    BELOW: {BELOW: "Sangat Kurang", MEETS: "Butuh Perbaikan", ABOVE: "Butuh Perbaikan"},
}


def level(value: Decimal, policy: Policy = DEFAULT_POLICY) -> str:
    if value >= policy.above_from:
        return ABOVE
    if value >= policy.meets_from:
        return MEETS
    return BELOW


def predikat(hasil_kerja: Decimal | None, perilaku: Decimal | None, policy: Policy = DEFAULT_POLICY) -> str:
    if hasil_kerja is None or perilaku is None:
        return BELUM_DINILAI
    return PREDIKAT[level(hasil_kerja, policy)][level(perilaku, policy)]


def _level_text(name: str, value: Decimal | None, policy: Policy) -> str:
    if value is None:
        return f"{name} belum dinilai"
    lvl = level(value, policy)
    bounds = {ABOVE: f"≥ {fmt(policy.above_from)}",
              MEETS: f"≥ {fmt(policy.meets_from)} dan < {fmt(policy.above_from)}",
              BELOW: f"< {fmt(policy.meets_from)}"}[lvl]
    return f"{name} {fmt(value)} {LEVEL_LABELS[lvl]} ({bounds})"


def predikat_basis(hasil_kerja: Decimal | None, perilaku: Decimal | None,
                   policy: Policy = DEFAULT_POLICY) -> dict:
    """Why the predikat is what it is: the level of each part against the cut-offs, the matrix
    cell (PermenPANRB 6/2022: hasil kerja's row, perilaku kerja's column) and the sentence saying
    so. JSON-ready (numbers as floats)."""
    hk = level(hasil_kerja, policy) if hasil_kerja is not None else None
    pk = level(perilaku, policy) if perilaku is not None else None
    result = predikat(hasil_kerja, perilaku, policy)
    parts = f"{_level_text('hasil kerja', hasil_kerja, policy)} × {_level_text('perilaku kerja', perilaku, policy)}"
    if hk and pk:
        rule = f"Predikat {result} menurut matriks PermenPANRB 6/2022: {parts}"
    else:
        rule = f"Predikat belum dinilai (matriks PermenPANRB 6/2022 butuh kedua bagian): {parts}"
    return {"hasil_kerja": None if hasil_kerja is None else float(hasil_kerja), "hasil_kerja_level": hk,
            "perilaku": None if perilaku is None else float(perilaku), "perilaku_level": pk,
            "above_from": float(policy.above_from), "meets_from": float(policy.meets_from),
            "predikat": result, "rule": rule}


def weighted_total(hasil_kerja: Decimal | None, perilaku: Decimal | None,
                   policy: Policy = DEFAULT_POLICY) -> Decimal | None:
    """60 % hasil kerja + 40 % perilaku, weighing only the rated parts (the final total when both
    are rated, a provisional one while one is not)."""
    parts = [(policy.weight_hasil_kerja, hasil_kerja), (policy.weight_perilaku, perilaku)]
    rated = [(w, v) for w, v in parts if v is not None]
    if not rated:
        return None
    return q2(sum((w * v for w, v in rated), ZERO) / sum((w for w, _ in rated), ZERO))
