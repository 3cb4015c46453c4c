"""The text the ADMS protocol is made of: lines in a declared or guessed charset, fixed-format
times, PINs, 32-bit numbers, ``key=value`` fields, and what a parser hands back (the records and
a ``BadLine`` for each line it could not use)."""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Iterable, Iterator, TypeVar

from kehadiran.domain.device_commands import MAX_PIN_LENGTH, PIN_RE, TIME_FORMAT

__all__ = ["TIME_FORMAT", "MAX_PIN_LENGTH", "PIN_RE", "BadLine", "Parsed", "known_charset", "decode_line",
           "iter_lines", "parse_time", "valid_pin", "int_or_none", "int_field", "parse_kv_fields", "pin_upper",
           "format_ok"]

T = TypeVar("T")


@dataclass(frozen=True)
class BadLine:
    line_no: int  # 1-based
    text: str
    reason: str

    def as_dict(self) -> dict:
        return {"line": self.line_no, "text": self.text[:200], "reason": self.reason}


@dataclass
class Parsed(Generic[T]):
    records: list[T] = field(default_factory=list)
    errors: list[BadLine] = field(default_factory=list)


# -- text -------------------------------------------------------------------------------------
def known_charset(name: str | None) -> str | None:
    """The codec for a declared charset (``gb2312`` → GB18030, its superset), None if unknown."""
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().strip('"')).name
    except (LookupError, ValueError):
        return None
    return "gb18030" if codec in ("gb2312", "gbk") else codec


def decode_line(raw: bytes, charset: str | None = None) -> str:
    if charset:
        try:
            return raw.decode(charset)
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def iter_lines(body: bytes | str, charset: str | None = None) -> Iterator[tuple[int, str]]:
    """(line number, text) for every non-blank line; LF or CRLF (or a lone CR) end a line. Control
    characters other than TAB become U+FFFD (PostgreSQL keeps no NUL; no field needs them)."""
    if isinstance(body, bytes):
        charset = known_charset(charset)
        if charset in (None, "utf-8"):
            try:
                # the usual body (ASCII, UTF-8): decoded at once rather than line by line
                body = body.decode("utf-8")
            except UnicodeDecodeError:
                pass
    if isinstance(body, str):
        chunks: Iterable[str] = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        # the usual body has neither: looked for once, not line by line
        clean = _UNSTORABLE.search(body) is None and "\ufeff" not in body
    else:
        chunks = (decode_line(c, charset) for c in re.split(rb"\r\n|\n|\r", body))
        clean = False
    for number, text in enumerate(chunks, start=1):
        if not clean:
            text = _UNSTORABLE.sub("\ufffd", text.lstrip("\ufeff"))
        if text.strip():
            yield number, text


def parse_time(text: str) -> datetime | None:
    """``YYYY-MM-DD HH:MM:SS`` exactly (``fromisoformat`` would take other shapes too, so the
    shape is checked first; ``strptime`` costs twenty times as much)."""
    text = text.strip()
    if len(text) != 19 or text[10] != " " or text[4] != "-" or text[7] != "-" or text[13] != ":" \
            or text[16] != ":" or not text.isascii():
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


# every number the protocol carries (states, counts, command ids and return codes) fits 32 bits; a
# longer one is a malformed field, never a value that overflows a column further on
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def valid_pin(pin: str) -> bool:
    """1-``MAX_PIN_LENGTH`` ASCII letters or digits (``PIN_RE``, without the regex engine)."""
    return 0 < len(pin) <= MAX_PIN_LENGTH and pin.isascii() and pin.isalnum()


def int_or_none(text: str) -> tuple[bool, int | None]:
    """(True, the number) for ASCII digits with an optional sign within 32 bits, (True, None) for
    nothing, (False, None) for anything else."""
    if text.isascii() and text.isdigit() and len(text) < 10:  # the usual field ("0", "15"): within 32 bits
        return True, int(text)
    text = text.strip()
    if text == "":
        return True, None
    digits = text[1:] if text[:1] in "+-" else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
        return False, None
    value = int(text)
    return (True, value) if INT_MIN <= value <= INT_MAX else (False, None)


def int_field(text: str | None) -> int | None:
    """A count or code a device reported, or None when it is missing or malformed."""
    ok, value = int_or_none(text or "")
    return value if ok else None


def parse_kv_fields(text: str) -> dict[str, str]:
    """``PIN=1\\tName=Budi\\tPri=0`` → dict; a field without ``=`` is skipped."""
    values: dict[str, str] = {}
    for part in text.split("\t"):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            values[key.strip()] = value.rstrip("\r\n")
    return values


def pin_upper(values: dict[str, str]) -> dict[str, str]:
    """Firmware spells it ``PIN``, ``Pin`` (BIODATA) or ``pin`` (query results): one key, ``PIN``."""
    for key in ("Pin", "pin"):
        if key in values and "PIN" not in values:
            values["PIN"] = values.pop(key)
    return values


def format_ok(count: int) -> str:
    """The acknowledgement of an upload: how many records were taken."""
    return f"OK:{count}"
