"""The spread of predikat an organisation may give, by the organisation's own predikat.

Source: PermenPANRB 6/2022 (Pengelolaan Kinerja Pegawai ASN), lampiran, "pola distribusi
predikat kinerja pegawai" (the curve the head of the organisation sets the ASN's predikat by):

- organisation **Istimewa**: most (at most 70 %) ASN *Sangat Baik*; the rest any other predikat;
- organisation **Baik**: most (at most 70 %) ASN *Baik*; there must be ASN rated *Butuh Perbaikan*
  and/or *Kurang/Misconduct*; the rest may be *Sangat Baik* and/or *Sangat Kurang*;
- organisation **Butuh Perbaikan** (Cukup): at least 60 % *Butuh Perbaikan*; *Sangat Baik* at most 10 %;
- organisation **Kurang**: at least 60 % *Kurang/Misconduct*, at least 10 % *Butuh Perbaikan*;
  *Sangat Baik* at most 10 %;
- organisation **Sangat Kurang**: at least 60 % *Sangat Kurang*, at least 10 % *Kurang/Misconduct*
  and/or *Butuh Perbaikan*; no *Sangat Baik*.

This is the project's default; an agency's policy may carry its own curve (same shape, as JSON:
``{"Baik": {"max": {"Baik": "0.7"}, "min": [{"predikat": [...], "share": "0", "required": true}]}}``).
Shares are of the ASN with a predikat (``Belum dinilai`` is counted but not in the shares). Pure.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping

SANGAT_BAIK, BAIK, BUTUH_PERBAIKAN, KURANG, SANGAT_KURANG = (
    "Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang/Misconduct", "Sangat Kurang")
BELUM_DINILAI = "Belum dinilai"
RATED = (SANGAT_BAIK, BAIK, BUTUH_PERBAIKAN, KURANG, SANGAT_KURANG)
ORGANISATION_PREDIKATS = ("Istimewa", "Baik", "Butuh Perbaikan", "Kurang", "Sangat Kurang")


@dataclass(frozen=True)
class MinRule:
    """At least ``share`` of the rated ASN hold one of ``predikat``; ``required``: at least one does."""

    predikat: tuple[str, ...]
    share: Decimal = Decimal("0")
    required: bool = False


@dataclass(frozen=True)
class Curve:
    maxima: Mapping[str, Decimal] = field(default_factory=dict)
    minima: tuple[MinRule, ...] = ()


D = Decimal
DEFAULT_CURVES: Mapping[str, Curve] = {
    "Istimewa": Curve({SANGAT_BAIK: D("0.7")}),
    "Baik": Curve({BAIK: D("0.7")}, (MinRule((BUTUH_PERBAIKAN, KURANG), D("0"), True),)),
    "Butuh Perbaikan": Curve({SANGAT_BAIK: D("0.1")}, (MinRule((BUTUH_PERBAIKAN,), D("0.6")),)),
    "Kurang": Curve({SANGAT_BAIK: D("0.1")}, (MinRule((KURANG,), D("0.6")), MinRule((BUTUH_PERBAIKAN,), D("0.1")))),
    "Sangat Kurang": Curve({SANGAT_BAIK: D("0")},
                           (MinRule((SANGAT_KURANG,), D("0.6")), MinRule((KURANG, BUTUH_PERBAIKAN), D("0.1")))),
}


def curves_from_json(obj: Mapping[str, Any] | None) -> Mapping[str, Curve]:
    """An agency's own curves (see the module doc); organisations it does not name keep the default."""
    if not obj:
        return DEFAULT_CURVES
    out = dict(DEFAULT_CURVES)
    for org, spec in obj.items():
        if org not in ORGANISATION_PREDIKATS:
            raise ValueError(f"unknown organisation predikat {org!r}")
        maxima = {p: D(str(s)) for p, s in (spec.get("max") or {}).items()}
        minima = tuple(MinRule(tuple(m["predikat"]), D(str(m.get("share", "0"))), bool(m.get("required", False)))
                       for m in spec.get("min") or [])
        for p in list(maxima) + [p for m in minima for p in m.predikat]:
            if p not in RATED:
                raise ValueError(f"unknown predikat {p!r}")
        for s in list(maxima.values()) + [m.share for m in minima]:
            if not D(0) <= s <= D(1):
                raise ValueError("shares are between 0 and 1")
        out[org] = Curve(maxima, minima)
    return out


def curves_to_json(curves: Mapping[str, Curve]) -> dict[str, Any]:
    return {org: {"max": {p: str(s) for p, s in c.maxima.items()},
                  "min": [{"predikat": list(m.predikat), "share": str(m.share), "required": m.required}
                          for m in c.minima]}
            for org, c in curves.items()}


@dataclass(frozen=True)
class Breach:
    predikat: tuple[str, ...]
    kind: str  # "max" | "min"
    allowed: Decimal  # the share allowed (max) or required (min)
    actual: Decimal
    count: int
    limit_count: int  # the most (max) or the fewest (min) ASN allowed

    def describe(self) -> str:
        names = " / ".join(self.predikat)
        if self.kind == "max":
            return f"{names}: {self.count} ASN ({self.actual:.0%}), paling banyak {self.limit_count} ({self.allowed:.0%})"
        return f"{names}: {self.count} ASN ({self.actual:.0%}), paling sedikit {self.limit_count}"


def shares(counts: Mapping[str, int]) -> dict[str, Decimal]:
    rated = sum(counts.get(p, 0) for p in RATED)
    return {p: (D(counts.get(p, 0)) / rated).quantize(D("0.0001")) if rated else D(0) for p in RATED}


def check(counts: Mapping[str, int], curve: Curve | None) -> list[Breach]:
    """The ways a spread of predikat (counts per predikat) breaks the curve; [] when it keeps it
    or when nobody is rated yet. A maximum allows floor(share × rated) ASN; a minimum asks for
    ceil(share × rated), and at least one when ``required``."""
    rated = sum(counts.get(p, 0) for p in RATED)
    if curve is None or rated == 0:
        return []
    out = []
    for p, share in curve.maxima.items():
        n = counts.get(p, 0)
        most = math.floor(share * rated)
        if n > most:
            out.append(Breach((p,), "max", share, D(n) / rated, n, most))
    for rule in curve.minima:
        n = sum(counts.get(p, 0) for p in rule.predikat)
        fewest = max(math.ceil(rule.share * rated), 1 if rule.required else 0)
        if n < fewest:
            out.append(Breach(rule.predikat, "min", rule.share, D(n) / rated, n, fewest))
    return out
