"""What the APIs say to people, in Bahasa Indonesia, or in English when the client asks for it
(``Accept-Language: en``). One place: the shared error handlers (``kinerja.web``) translate every
message on its way out, so the code keeps writing its reasons in English, next to the rule they
explain, and no route translates anything itself.

A message is looked up in ``CATALOGUE`` (read from ``i18n_catalogue.toml``): English templates
whose ``{}`` stand for the values the code put in (NIPs, dates, counts, names), each with its
Indonesian sentence (``{0}``, ``{1}``, ... are the values in the English order, so a sentence may
put them where Indonesian wants them). A value that is itself an English word the catalogue knows
(an action, a duration) is translated too.
``tests`` hold every message the services raise against the catalogue, so a new one without its
Indonesian fails the build rather than reaching an ASN in English.
"""
from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources

ID, EN = "id", "en"
LANGUAGES = (ID, EN)

# (English template, Indonesian), sorted by where the messages come from: a data file beside this
# module, so the sentences can be read and added to without the code around them
CATALOGUE: tuple[tuple[str, str], ...] = tuple(
    (english, indonesian)
    for english, indonesian in tomllib.loads(
        resources.files("kinerja").joinpath("i18n_catalogue.toml").read_text(encoding="utf-8"))["messages"])

# English words that come inside a message as one of its values
WORDS = {
    "see": "melihat", "change": "mengubah", "approve": "menyetujui", "reject": "menolak", "return": "mengembalikan",
    "submit": "mengajukan", "start": "memulai", "cancel": "membatalkan", "accept": "menerima", "edit": "mengubah",
    "reschedule": "menjadwal ulang", "before": "sebelum", "after": "sesudah", "approved": "disetujui",
    "rejected": "ditolak", "cancelled": "dibatalkan", "pending": "menunggu",
}
_UNITS = {"day": "hari", "days": "hari", "hour": "jam", "hours": "jam", "minute": "menit", "minutes": "menit",
          "second": "detik", "seconds": "detik"}
_DURATION = re.compile(r"\b(\d+) (days?|hours?|minutes?|seconds?)\b")
_SIDE = re.compile(r"(?<= )(before|after)$")


def preferred(accept_language: str | None) -> str:
    """``en`` when the client ranks English above Indonesian (``Accept-Language: en``,
    ``en-US,en;q=0.9``), else ``id``: the product speaks Indonesian unless asked otherwise."""
    best: dict[str, float] = {}
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        if lang not in LANGUAGES:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best[lang] = max(best.get(lang, 0.0), q)
    return EN if best.get(EN, 0.0) > best.get(ID, 0.0) else ID


@lru_cache(maxsize=1)
def _compiled() -> tuple[dict[str, str], list[tuple[re.Pattern, str]]]:
    exact, patterns = {}, []
    for english, indonesian in CATALOGUE:
        if "{}" not in english:
            exact[english] = indonesian
            continue
        parts = [re.escape(p) for p in english.split("{}")]
        patterns.append((re.compile("^" + "(.+?)".join(parts) + "$", re.S), indonesian))
    # the longest literal text first, so a specific sentence wins over a general one ("{}: {}")
    patterns.sort(key=lambda p: -len(re.sub(r"\(\.\+\?\)", "", p[0].pattern)))
    return exact, patterns


def _value(text: str) -> str:
    if text in WORDS:
        return WORDS[text]
    if text.strip("'\"") in WORDS:
        return text.replace(text.strip("'\""), WORDS[text.strip("'\"")])
    text = _DURATION.sub(lambda m: f"{m.group(1)} {_UNITS[m.group(2)]}", text)
    return _SIDE.sub(lambda m: WORDS[m.group(1)], text)


def indonesian(text: str) -> str | None:
    """The Indonesian of ``text``, or None when the catalogue does not know it."""
    exact, patterns = _compiled()
    if text in exact:
        return exact[text]
    for pattern, template in patterns:
        m = pattern.match(text)
        if m:
            values = [_value(v) for v in m.groups()]
            try:
                return template.format(*values)
            except (IndexError, KeyError):  # pragma: no cover - a catalogue entry with a wrong index
                return None
    return None


def translate(text: str, lang: str) -> str:
    """``text`` (English, as the code wrote it) in ``lang``; unknown text is kept as it is."""
    if lang == EN or not isinstance(text, str):
        return text
    return indonesian(text) or text
