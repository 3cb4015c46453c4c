"""The three levels a part of a score (or a BerAKHLAK value) is rated at."""
from __future__ import annotations

BELOW, MEETS, ABOVE = "below", "meets", "above"
LEVELS = (BELOW, MEETS, ABOVE)
LEVEL_LABELS = {ABOVE: "di atas ekspektasi", MEETS: "sesuai ekspektasi", BELOW: "di bawah ekspektasi"}
