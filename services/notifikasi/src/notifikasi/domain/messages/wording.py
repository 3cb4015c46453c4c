"""How dates, periods, scores and quoted text read in a notification (Bahasa Indonesia)."""
from __future__ import annotations

from typing import Any, Mapping

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember")


def format_score(value: float | None) -> str:
    """97.5 → "97.5", 100.0 → "100", None → "belum dinilai"."""
    if value is None:
        return "belum dinilai"
    rounded = round(float(value), 2)
    text = f"{rounded:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


QUARTERS = ("I", "II", "III", "IV")


def format_period(period: str) -> str:
    """"2026-11" → "November 2026", "2026-Q4" → "Triwulan IV 2026", "2026" → "Tahun 2026";
    anything else is shown as it is."""
    try:
        if len(period) == 4 and period.isdigit():
            return f"Tahun {int(period)}"
        year, rest = period.split("-")
        if rest.startswith("Q"):
            return f"Triwulan {QUARTERS[int(rest[1:]) - 1]} {int(year)}"
        return f"{MONTHS[int(rest) - 1]} {int(year)}"
    except (ValueError, IndexError):
        return period


def format_date(value: Any) -> str:
    """A date (or ISO string) as "28 November 2026"."""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    try:
        year, month, day = text[:10].split("-")
        return f"{int(day)} {MONTHS[int(month) - 1]} {int(year)}"
    except (ValueError, IndexError):
        return text


def due_text(data: Mapping[str, Any]) -> str:
    return format_date(data["due_date"]) if data.get("due_date") else "-"


def quoted(text: Any, limit: int = 140) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def date_span(data: Mapping[str, Any]) -> str:
    start, end = data.get("start_date"), data.get("end_date")
    return format_date(start) if not end or str(end)[:10] == str(start)[:10] else \
        f"{format_date(start)} s.d. {format_date(end)}"
