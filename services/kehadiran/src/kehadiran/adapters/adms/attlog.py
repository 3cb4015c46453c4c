"""``table=ATTLOG``: the punches a terminal uploads, one a line."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from kehadiran.adapters.adms.lines import MAX_PIN_LENGTH, BadLine, Parsed, int_or_none, iter_lines, parse_time, valid_pin

MIN_FIELDS, MAX_FIELDS = 5, 12
EARLIEST = datetime(2000, 1, 1)  # a device whose clock was never set reports 2000-01-01 or earlier
MAX_AHEAD = timedelta(days=1)

STATUS_DIRECTION = {1: "out"}


class AttRecord(NamedTuple):
    """One ATTLOG line (a tuple: a frozen dataclass costs more to build than parsing the line)."""

    line_no: int
    pin: str
    time: datetime  # naive, device wall clock
    status: str | None  # "in" / "out" / None
    status_code: int | None
    verify: int | None
    workcode: str | None


def status_direction(code: int | None) -> str | None:
    return STATUS_DIRECTION.get(code) if code is not None else None


def single_line_pin(body: bytes) -> str | None:
    """The PIN of a one-line upload (a terminal pushing each punch as it happens), read ahead of
    the parse so the device's look-up can bring its NIP along; None for anything else. Only a
    hint: the parse decides what the line holds."""
    line = body.strip(b"\r\n")
    if not line or b"\n" in line:
        return None
    pin = line.split(b"\t", 1)[0].strip().decode("ascii", "replace")
    return pin if valid_pin(pin) else None


AHEAD_REASON = "TIME is more than a day in the future"


def drop_ahead(parsed: Parsed[AttRecord], body: bytes | str, now_local: datetime,
               max_ahead: timedelta = MAX_AHEAD) -> Parsed[AttRecord]:
    """``parsed`` (``parse_attlog(body)`` without ``now_local``) with the records timed more than
    ``max_ahead`` past ``now_local`` moved to its errors, as ``parse_attlog(body, now_local=)``
    returns them: the parse needs no device and runs before the request's transaction, this
    check needs the device's clock (one comparison a record) and runs inside it."""
    limit = now_local + max_ahead
    if all(r.time <= limit for r in parsed.records):
        return parsed
    text = dict(iter_lines(body))  # rare: the lines' text for the operator's status page
    kept = [r for r in parsed.records if r.time <= limit]
    ahead = [BadLine(r.line_no, text[r.line_no], AHEAD_REASON) for r in parsed.records if r.time > limit]
    return Parsed(kept, sorted(parsed.errors + ahead, key=lambda e: e.line_no))


def parse_attlog(body: bytes | str, *, now_local: datetime | None = None,
                 max_ahead: timedelta = MAX_AHEAD) -> Parsed[AttRecord]:
    """Parse an ``ATTLOG`` upload: ``PIN TIME STATUS VERIFY WORKCODE RESERVED RESERVED [...]``,
    5 to 12 TAB-separated fields. ``now_local`` (the device's wall clock now) rejects times more
    than ``max_ahead`` in the future."""
    out: Parsed[AttRecord] = Parsed()
    for number, line in iter_lines(body):
        fields_ = line.rstrip("\r\n").split("\t")
        reason = None
        if len(fields_) < MIN_FIELDS or len(fields_) > MAX_FIELDS:
            reason = f"expected {MIN_FIELDS} to {MAX_FIELDS} TAB-separated fields, got {len(fields_)}"
        else:
            pin = fields_[0].strip()
            when = parse_time(fields_[1])
            ok_status, status_code = int_or_none(fields_[2])
            ok_verify, verify = int_or_none(fields_[3])
            if not valid_pin(pin):
                reason = f"PIN must be 1-{MAX_PIN_LENGTH} letters or digits"
            elif when is None:
                reason = "TIME must be YYYY-MM-DD HH:MM:SS"
            elif when < EARLIEST:
                reason = "TIME is before 2000 (device clock not set?)"
            elif now_local is not None and when > now_local + max_ahead:
                reason = AHEAD_REASON
            elif not ok_status:
                reason = "STATUS must be a number"
            elif not ok_verify:
                reason = "VERIFY must be a number"
            else:
                workcode = fields_[4].strip() or None
                out.records.append(AttRecord(number, pin, when, status_direction(status_code), status_code,
                                             verify, workcode))
                continue
        out.errors.append(BadLine(number, line, reason))
    return out
