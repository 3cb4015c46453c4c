"""The device's clock on the wire (push 3.x asks the server for the time on ``/iclock/rtdata``):
ZKTeco's packed time and the zone it is told."""
from __future__ import annotations

from datetime import datetime


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
