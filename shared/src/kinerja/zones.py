"""Indonesia's three time zones, by the names agencies use and the IANA names code uses.

An agency's zone travels with the roster (``pegawai.v1``, field ``timezone``): every service learns
it from the same events, so kehadiran's day cuts, penilaian's periods and the dashboard's "today"
agree. ``KINERJA_TIMEZONE`` stays the zone of an agency whose roster names none.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"
ZONES = (WIB, WITA, WIT)
# what a roster CSV may write for each (the label on every Indonesian clock, or the IANA name)
ALIASES = {"wib": WIB, "wita": WITA, "wit": WIT, **{z.lower(): z for z in ZONES}}
LABELS = {WIB: "WIB", WITA: "WITA", WIT: "WIT"}


def zone_name(text: str | None) -> str | None:
    """``"WITA"``, ``"wita"`` or ``"Asia/Makassar"`` → ``"Asia/Makassar"``; None for anything else."""
    if not text:
        return None
    return ALIASES.get(text.strip().lower())


_CACHE: dict[str, ZoneInfo] = {}


def zone(name: str) -> ZoneInfo:
    """``ZoneInfo(name)``, built once per name."""
    found = _CACHE.get(name)
    if found is None:
        found = _CACHE[name] = ZoneInfo(name)
    return found
