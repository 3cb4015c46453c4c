"""The command queue on the wire: the lines a device fetches (``getrequest``), the results it
posts back (``devicecmd``), and the records a ``DATA QUERY`` brings (``querydata``, push 3.x).
What a command line says is the domain's (``kehadiran.domain.device_commands``)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from kehadiran.adapters.adms.lines import BadLine, Parsed, int_or_none, iter_lines, parse_kv_fields, pin_upper

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
        ok_id, cmd_id = int_or_none(values.get("ID", ""))
        ok_ret, ret = int_or_none(values.get("Return", ""))
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
        values = pin_upper(parse_kv_fields(rest))
        if not TABLE_RE.match(table) or not values:
            out.errors.append(BadLine(number, line, "expected '<table> key=value<TAB>key=value...'"))
            continue
        out.records.append(QueryRecord(number, table.lower(), values))
    return out
