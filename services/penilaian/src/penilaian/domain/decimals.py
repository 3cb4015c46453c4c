"""Exact decimal arithmetic of scores: every number rounded half-up to two places at each step (so
the same facts always give the same digits), and numbers written the Indonesian way."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")


def q2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(x: Decimal) -> str:
    """Indonesian-friendly number: ``1``, ``0,5``, ``87,33``."""
    text = format(x, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def signed(x: Decimal) -> str:
    return ("−" if x < 0 else "+") + fmt(abs(x))
