"""What push 3.x firmware uploads besides punches: biometric templates (``table=BIODATA``) and
attendance photos (``table=ATTPHOTO``), each bounded in size. Shapes from ZKTeco's PUSH protocol
(3.x) as open-source servers that run against such terminals implement it."""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from kehadiran.adapters.adms.lines import (MAX_PIN_LENGTH, PIN_RE, BadLine, Parsed, int_field, iter_lines,
                                           parse_kv_fields, pin_upper)
from kehadiran.adapters.adms.operlog import OperRecord


def parse_biodata(body: bytes | str, charset: str | None = None) -> Parsed[OperRecord]:
    """``table=BIODATA`` (push 3.x's unified templates), one a line with or without the
    ``BIODATA`` prefix: ``Pin=1<TAB>No=0<TAB>Index=0<TAB>Valid=1<TAB>Type=9<TAB>...<TAB>Tmp=<base64>``."""
    out: Parsed[OperRecord] = Parsed()
    for number, line in iter_lines(body, charset):
        head, _, rest = line.partition(" ")
        text = rest if head.strip().upper() in ("BIODATA", "FP", "FACE") else line
        values = pin_upper(parse_kv_fields(text))
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
