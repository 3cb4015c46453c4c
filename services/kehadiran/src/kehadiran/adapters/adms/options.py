"""The handshake: the options a device reports (``table=options``, ``INFO``), the resume stamps
it sends, and the options it is told to run with."""
from __future__ import annotations

import re
from dataclasses import dataclass

from kehadiran.adapters.adms.lines import int_or_none, iter_lines

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
            ok, value = int_or_none(parts[i])
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
