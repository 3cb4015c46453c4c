"""``table=OPERLOG``: the operation log (OPLOG) and the users, fingerprints and faces enrolled
on the terminal."""
from __future__ import annotations

from dataclasses import dataclass

from kehadiran.adapters.adms.lines import (MAX_PIN_LENGTH, PIN_RE, BadLine, Parsed, int_or_none, iter_lines,
                                           parse_kv_fields, parse_time, pin_upper)

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
            values = pin_upper(parse_kv_fields(rest))
            if "PIN" not in values or not PIN_RE.match(values["PIN"].strip()):
                out.errors.append(BadLine(number, line, f"{kind} needs PIN=<1-{MAX_PIN_LENGTH} letters or digits>"))
                continue
            values["PIN"] = values["PIN"].strip()
        out.records.append(OperRecord(number, kind, values))
    return out


def user_of(record: OperRecord) -> UserRecord | None:
    if record.kind != "USER":
        return None
    v = record.values
    _, privilege = int_or_none(v.get("Pri", ""))
    return UserRecord(pin=v["PIN"], name=v.get("Name", "").strip(), privilege=privilege,
                      card=(v.get("Card") or "").strip() or None, group=(v.get("Grp") or "").strip() or None)
