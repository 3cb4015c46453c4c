"""ZKTeco ADMS ("iclock") push protocol codec: parse what a device sends, format what it expects.

Pure functions over bytes and text; no Flask, no database, nothing of ours. See
``shared/reference/adms-push.md``. Every parser returns the good records *and* a list of
``BadLine`` (line number, text, reason) for the lines it could not use: one malformed line never
spoils a batch, and nothing here raises for a device's input.

Choices worth knowing:

- STATUS → direction: only ``1`` (check-out) becomes ``"out"``. ``0`` (check-in) is the state most
  terminals attach to *every* punch unless staff press a key first, so it says nothing: reading it
  as ``"in"`` would turn a lone afternoon departure into a very late arrival (TL4 + PSW4 instead of
  TL4). Break-out/in (2, 3), overtime-in/out (4, 5), ``255`` and anything else are ``None`` too, so
  the daily rules decide by first/last punch and the schedule's midpoint. The raw code is kept on
  the record (``status_code``) should a per-device policy want it later.
- Text is decoded line by line: in the charset the request declared when it names a known one,
  else UTF-8 when the line is valid UTF-8, else GB18030 (a superset of GB2312, what Chinese-locale
  firmware writes); undecodable bytes become U+FFFD rather than an error.
- Record times are the device's wall clock, returned naive; the caller attaches the device's zone.
"""
from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, Iterable, Iterator, NamedTuple, TypeVar

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MIN_FIELDS, MAX_FIELDS = 5, 12
MAX_PIN_LENGTH = 20  # the width of the punch identity column
PIN_RE = re.compile(r"^[A-Za-z0-9]{1,%d}$" % MAX_PIN_LENGTH)
EARLIEST = datetime(2000, 1, 1)  # a device whose clock was never set reports 2000-01-01 or earlier
MAX_AHEAD = timedelta(days=1)

STATUS_DIRECTION = {1: "out"}

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
    else:
        chunks = (decode_line(c, charset) for c in re.split(rb"\r\n|\n|\r", body))
    for number, text in enumerate(chunks, start=1):
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


def _int_or_none(text: str) -> tuple[bool, int | None]:
    """(True, the number) for ASCII digits with an optional sign within 32 bits, (True, None) for
    nothing, (False, None) for anything else."""
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
    ok, value = _int_or_none(text or "")
    return value if ok else None


# -- ATTLOG -----------------------------------------------------------------------------------
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
            ok_status, status_code = _int_or_none(fields_[2])
            ok_verify, verify = _int_or_none(fields_[3])
            if not valid_pin(pin):
                reason = f"PIN must be 1-{MAX_PIN_LENGTH} letters or digits"
            elif when is None:
                reason = "TIME must be YYYY-MM-DD HH:MM:SS"
            elif when < EARLIEST:
                reason = "TIME is before 2000 (device clock not set?)"
            elif now_local is not None and when > now_local + max_ahead:
                reason = "TIME is more than a day in the future"
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


# -- OPERLOG ----------------------------------------------------------------------------------
OPERLOG_KINDS = ("OPLOG", "USER", "FP", "FACE", "USERPIC", "BIODATA")


@dataclass(frozen=True)
class OperRecord:
    line_no: int
    kind: str  # OPLOG, USER, FP, FACE, USERPIC, BIODATA
    values: dict[str, str]  # key=value fields; OPLOG gets positional names


@dataclass(frozen=True)
class UserRecord:
    pin: str
    name: str
    privilege: int | None
    card: str | None
    group: str | None


OPLOG_FIELDS = ("op", "admin", "time", "obj1", "obj2", "obj3", "obj4")


def parse_kv_fields(text: str) -> dict[str, str]:
    """``PIN=1\\tName=Budi\\tPri=0`` → dict; a field without ``=`` is skipped."""
    values: dict[str, str] = {}
    for part in text.split("\t"):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            values[key.strip()] = value.rstrip("\r\n")
    return values


def parse_operlog(body: bytes | str, charset: str | None = None) -> Parsed[OperRecord]:
    out: Parsed[OperRecord] = Parsed()
    for number, line in iter_lines(body, charset):
        kind, _, rest = line.partition(" ")
        kind = kind.strip()
        if kind not in OPERLOG_KINDS:
            out.errors.append(BadLine(number, line, f"unknown OPERLOG record {kind[:20]!r}"))
            continue
        if kind == "OPLOG":
            parts = rest.split("\t")
            if len(parts) < 3 or parse_time(parts[2]) is None:
                out.errors.append(BadLine(number, line, "OPLOG needs OP, ADMIN, TIME (YYYY-MM-DD HH:MM:SS)"))
                continue
            values = {name: value.strip() for name, value in zip(OPLOG_FIELDS, parts)}
        else:
            values = _pin_upper(parse_kv_fields(rest))
            if "PIN" not in values or not PIN_RE.match(values["PIN"].strip()):
                out.errors.append(BadLine(number, line, f"{kind} needs PIN=<1-{MAX_PIN_LENGTH} letters or digits>"))
                continue
            values["PIN"] = values["PIN"].strip()
        out.records.append(OperRecord(number, kind, values))
    return out


def _pin_upper(values: dict[str, str]) -> dict[str, str]:
    """Firmware spells it ``PIN``, ``Pin`` (BIODATA) or ``pin`` (query results): one key, ``PIN``."""
    for key in ("Pin", "pin"):
        if key in values and "PIN" not in values:
            values["PIN"] = values.pop(key)
    return values


def user_of(record: OperRecord) -> UserRecord | None:
    if record.kind != "USER":
        return None
    v = record.values
    _, privilege = _int_or_none(v.get("Pri", ""))
    return UserRecord(pin=v["PIN"], name=v.get("Name", "").strip(), privilege=privilege,
                      card=(v.get("Card") or "").strip() or None, group=(v.get("Grp") or "").strip() or None)


# -- table=options, INFO, options reply --------------------------------------------------------
_OPTION_SPLIT = re.compile(r",(?=\s*[~A-Za-z][\w~.]*=)")
STAMP_ALIASES = {"Stamp": "ATTLOGStamp", "OpStamp": "OPERLOGStamp", "PhotoStamp": "ATTPHOTOStamp"}


def parse_options(body: bytes | str, charset: str | None = None) -> dict[str, str]:
    """``table=options`` body: comma-separated ``key=value``, where a value may itself contain
    commas (``~OEMVendor=ZK, Inc.``): a comma starts a new pair only when ``key=`` follows it."""
    text = "\n".join(line for _, line in iter_lines(body, charset))
    values: dict[str, str] = {}
    for line in text.split("\n"):
        for part in _OPTION_SPLIT.split(line):
            key, sep, value = part.partition("=")
            if sep and key.strip():
                values[key.strip()] = value.strip()
    return values


def parse_option_lines(text: bytes | str) -> dict[str, str]:
    """An options reply (``GET OPTION FROM: sn`` then ``key=value`` lines, LF or CRLF), with the
    older ``Stamp=`` / ``OpStamp=`` spellings read as ``ATTLOGStamp`` / ``OPERLOGStamp``."""
    values: dict[str, str] = {}
    for _, line in iter_lines(text):
        if line.startswith("GET OPTION FROM:"):
            values["_sn"] = line.split(":", 1)[1].strip()
            continue
        key, sep, value = line.partition("=")
        if sep:
            key = key.strip()
            values[STAMP_ALIASES.get(key, key)] = value
    return values


def stamp_of(args: dict[str, str], table: str) -> str | None:
    """The resume stamp a device sent with an upload, under either spelling."""
    names = ("Stamp", "ATTLOGStamp") if table == "ATTLOG" else ("OpStamp", "OPERLOGStamp", "Stamp")
    for name in names:
        value = args.get(name)
        if value not in (None, ""):
            return value[:32]
    return None


@dataclass(frozen=True)
class DeviceInfo:
    firmware: str | None
    user_count: int | None
    fp_count: int | None
    log_count: int | None
    ip: str | None
    raw: list[str]


def parse_info(info: str | None) -> DeviceInfo | None:
    """``INFO=<firmware>,<users>,<fingerprints>,<attendance logs>,<ip>[,...]`` of getrequest."""
    if not info:
        return None
    parts = [p.strip() for p in info.split(",")]

    def num(i: int) -> int | None:
        if i < len(parts):
            ok, value = _int_or_none(parts[i])
            return value if ok else None
        return None

    return DeviceInfo(firmware=(parts[0][:100] or None), user_count=num(1), fp_count=num(2), log_count=num(3),
                      ip=(parts[4][:64] if len(parts) > 4 and parts[4] else None), raw=parts[:32])


def timezone_option(offset_minutes: int) -> int:
    """``TimeZone`` is whole hours, or minutes for zones off the hour (e.g. 330 for India)."""
    return offset_minutes // 60 if offset_minutes % 60 == 0 else offset_minutes


@dataclass(frozen=True)
class OptionsPolicy:
    error_delay: int = 30
    delay: int = 10
    trans_times: str = "00:00;14:05"
    trans_interval: int = 1
    trans_flag: str = "TransData AttLog\tOpLog\tEnrollUser\tChgUser"
    realtime: bool = True
    server_ver: str = "2.4.1"


def options_reply(sn: str, *, tz_offset_minutes: int, attlog_stamp: str | None = None,
                  operlog_stamp: str | None = None, policy: OptionsPolicy = OptionsPolicy()) -> str:
    """The handshake reply. With no stored ATTLOG stamp the device uploads everything it holds
    (deduplicated on our side); the OPERLOG stamp defaults to 9999 (no old operation log)."""
    lines = [
        f"GET OPTION FROM: {sn}",
        f"ATTLOGStamp={attlog_stamp or 'None'}",
        f"OPERLOGStamp={operlog_stamp or '9999'}",
        "ATTPHOTOStamp=None",
        f"ErrorDelay={policy.error_delay}",
        f"Delay={policy.delay}",
        f"TransTimes={policy.trans_times}",
        f"TransInterval={policy.trans_interval}",
        f"TransFlag={policy.trans_flag}",
        f"TimeZone={timezone_option(tz_offset_minutes)}",
        f"Realtime={1 if policy.realtime else 0}",
        "Encrypt=None",
        f"ServerVer={policy.server_ver}",
    ]
    return "\n".join(lines) + "\n"


# -- commands ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CommandResult:
    line_no: int
    id: int
    return_code: int
    command: str
    values: dict[str, str]


def parse_devicecmd(body: bytes | str) -> Parsed[CommandResult]:
    """``ID=<id>&Return=<code>&CMD=<command>`` one a line (some firmware adds more ``&k=v``).
    Lines without ``ID=`` after a result (what ``INFO`` answers: ``~DeviceName=..`` a line) are
    that result's data, kept in its ``values``."""
    out: Parsed[CommandResult] = Parsed()
    for number, line in iter_lines(body):
        if "ID=" not in line and out.records and "=" in line:
            key, _, value = line.partition("=")
            if len(out.records[-1].values) < 100:
                out.records[-1].values.setdefault(key.strip()[:64], value.strip()[:500])
            continue
        values: dict[str, str] = {}
        for part in line.split("&"):
            key, sep, value = part.partition("=")
            if sep:
                values[key.strip()] = value.strip()
        ok_id, cmd_id = _int_or_none(values.get("ID", ""))
        ok_ret, ret = _int_or_none(values.get("Return", ""))
        if not ok_id or cmd_id is None:
            out.errors.append(BadLine(number, line, "ID=<number> missing"))
        elif not ok_ret or ret is None:
            out.errors.append(BadLine(number, line, "Return=<number> missing"))
        else:
            out.records.append(CommandResult(number, cmd_id, ret, values.get("CMD", "")[:200], values))
    return out


def command_lines(commands: Iterable[tuple[int, str]]) -> str:
    """The getrequest reply: ``C:<id>:<command>`` a line, or ``OK`` when nothing is queued."""
    lines = [f"C:{cmd_id}:{command}" for cmd_id, command in commands]
    return ("\n".join(lines) + "\n") if lines else "OK"


def _field(value: str, name: str) -> str:
    if any(c in value for c in "\t\r\n"):
        raise ValueError(f"{name} may not contain tabs or line breaks")
    return value


def query_attlog_command(start: datetime, end: datetime) -> str:
    """Ask the device to re-upload its attendance log between two device-local times."""
    if end <= start:
        raise ValueError("end must be after start")
    return f"DATA QUERY ATTLOG StartTime={start.strftime(TIME_FORMAT)}\tEndTime={end.strftime(TIME_FORMAT)}"


def update_user_command(pin: str, name: str) -> str:
    if not PIN_RE.match(pin):
        raise ValueError(f"PIN must be 1-{MAX_PIN_LENGTH} letters or digits")
    return f"DATA UPDATE USERINFO PIN={pin}\tName={_field(name, 'name')}"


CHECK_COMMAND = "CHECK"
INFO_COMMAND = "INFO"


def format_ok(count: int) -> str:
    return f"OK:{count}"


# -- push protocol 3.x: time sync, query results, photos, biometric templates -----------------
# Newer firmware (push 3.x) asks the server for the time, answers DATA QUERY commands on
# /iclock/querydata, and pushes attendance photos and biometric templates. Shapes from ZKTeco's
# PUSH protocol (3.x) as open-source servers that run against such terminals implement it.

def encode_time(t: datetime) -> int:
    """ZKTeco's packed time (``SET OPTIONS DateTime=`` and ``/iclock/rtdata``): every month 31
    days, every year 12 x 31, from 2000; not a duration, a packed field the device unpacks the
    same way. 2018-02-22 14:54:54 is 583080894."""
    return (((t.year - 2000) * 12 * 31 + (t.month - 1) * 31 + t.day - 1) * 86400
            + (t.hour * 60 + t.minute) * 60 + t.second)


def server_tz(offset_minutes: int) -> str:
    """``+0700``, ``+0800``, ``+0900``."""
    sign = "-" if offset_minutes < 0 else "+"
    m = abs(offset_minutes)
    return f"{sign}{m // 60:02d}{m % 60:02d}"


def rtdata_time_reply(device_now: datetime, offset_minutes: int) -> str:
    """``GET /iclock/rtdata?type=time``: the device's wall clock now, and its zone."""
    return f"DateTime={encode_time(device_now)},ServerTZ={server_tz(offset_minutes)}\n"


MAX_TABLE_NAME = 32
TABLE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,%d}$" % (MAX_TABLE_NAME - 1))


@dataclass(frozen=True)
class QueryRecord:
    line_no: int
    table: str  # lower case: user, biodata, ...
    values: dict[str, str]


def parse_querydata(body: bytes | str, charset: str | None = None) -> Parsed[QueryRecord]:
    """``POST /iclock/querydata`` (the answer to ``DATA QUERY tablename=..``): one record a line,
    ``<table> key=value<TAB>key=value``; a line without fields is reported."""
    out: Parsed[QueryRecord] = Parsed()
    for number, line in iter_lines(body, charset):
        table, _, rest = line.strip().partition(" ")
        values = _pin_upper(parse_kv_fields(rest))
        if not TABLE_RE.match(table) or not values:
            out.errors.append(BadLine(number, line, "expected '<table> key=value<TAB>key=value...'"))
            continue
        out.records.append(QueryRecord(number, table.lower(), values))
    return out


def parse_biodata(body: bytes | str, charset: str | None = None) -> Parsed[OperRecord]:
    """``table=BIODATA`` (push 3.x's unified templates), one a line with or without the
    ``BIODATA`` prefix: ``Pin=1<TAB>No=0<TAB>Index=0<TAB>Valid=1<TAB>Type=9<TAB>...<TAB>Tmp=<base64>``."""
    out: Parsed[OperRecord] = Parsed()
    for number, line in iter_lines(body, charset):
        head, _, rest = line.partition(" ")
        text = rest if head.strip().upper() in ("BIODATA", "FP", "FACE") else line
        values = _pin_upper(parse_kv_fields(text))
        if "PIN" not in values or not PIN_RE.match(values["PIN"].strip()):
            out.errors.append(BadLine(number, line, f"BIODATA needs Pin=<1-{MAX_PIN_LENGTH} letters or digits>"))
            continue
        values["PIN"] = values["PIN"].strip()
        out.records.append(OperRecord(number, "BIODATA", values))
    return out


def template_bytes(values: dict[str, str], limit: int) -> bytes | None:
    """A template's ``Tmp``/``TMP`` field decoded (base64), None when absent, malformed or
    larger than ``limit`` bytes."""
    text = (values.get("Tmp") or values.get("TMP") or "").strip()
    if not text or len(text) > (limit * 4) // 3 + 4:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


MAX_PHOTO_HEADER = 1024
_PHOTO_NAME = re.compile(r"^(?:\d{14})-([A-Za-z0-9]{1,%d})\.jpg$" % MAX_PIN_LENGTH)


@dataclass(frozen=True)
class Photo:
    label: str  # the file name the device gave (``20261201073000-7.jpg``)
    pin: str | None  # the person, when the name carries one
    data: bytes
    declared_size: int | None


def parse_attphoto(body: bytes) -> Photo | BadLine:
    """``table=ATTPHOTO``: a text header (``PIN=<file name>``, ``SN=``, ``size=``,
    ``CMD=uploadphoto``, a line each) ended by a NUL, then the JPEG bytes."""
    cut = body.find(b"\x00", 0, MAX_PHOTO_HEADER)
    if cut < 0:
        return BadLine(1, body[:80].decode("latin-1"), "a photo upload starts with its header and a NUL")
    header = {}
    for line in body[:cut].decode("latin-1").replace("\r", "\n").split("\n"):
        key, sep, value = line.partition("=")
        if sep:
            header[key.strip().lower()] = value.strip()
    name = header.get("pin", "")[:100]
    data = body[cut + 1:]
    if not name or not data:
        return BadLine(1, body[:cut][:80].decode("latin-1"), "a photo upload names its file (PIN=) and carries it")
    m = _PHOTO_NAME.match(name)
    return Photo(label=name, pin=m.group(1) if m else None, data=data,
                 declared_size=int_field(header.get("size")))
