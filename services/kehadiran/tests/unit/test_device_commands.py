"""What a command queued for a device is, on its own: the protocol line each typed request
becomes, and the requests refused (a raw command from an admin, a span too long, a PIN or name a
line cannot carry, an ASN the device's agency does not have)."""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from kehadiran.domain.device_commands import (CHECK_COMMAND, INFO_COMMAND, command_line, query_attlog_command,
                                              update_user_command, validate_command)
from kehadiran.domain.errors import NotAllowed

pytestmark = pytest.mark.unit

WIB = 7 * 60


@dataclass
class Rostered:
    agency: str
    pin: str | None
    nama: str


def line(request, role="admin", rostered=None):
    return command_line(request, role=role, agency="KAB-A", tz_offset_minutes=WIB, rostered=rostered)


def test_the_protocol_lines():
    assert query_attlog_command(datetime(2026, 11, 1), datetime(2026, 11, 2)) == (
        "DATA QUERY ATTLOG StartTime=2026-11-01 00:00:00\tEndTime=2026-11-02 00:00:00")
    assert update_user_command("100", "Budi") == "DATA UPDATE USERINFO PIN=100\tName=Budi"
    with pytest.raises(ValueError):
        update_user_command("100", "Budi\tPri=14")
    with pytest.raises(ValueError):
        update_user_command("1 0", "Budi")
    with pytest.raises(ValueError):
        query_attlog_command(datetime(2026, 11, 2), datetime(2026, 11, 1))


def test_a_reupload_is_asked_in_the_devices_wall_clock():
    start = datetime(2026, 11, 1, 0, 0, tzinfo=timezone.utc)
    assert line({"kind": "reupload", "start": start, "end": start + timedelta(days=1)}) == (
        "DATA QUERY ATTLOG StartTime=2026-11-01 07:00:00\tEndTime=2026-11-02 07:00:00")
    naive = datetime(2026, 11, 1)  # no offset: the device's time already
    assert line({"kind": "reupload", "start": naive, "end": naive + timedelta(hours=1)}).endswith(
        "EndTime=2026-11-01 01:00:00")
    with pytest.raises(ValueError, match="at most 366 days"):
        line({"kind": "reupload", "start": naive, "end": naive + timedelta(days=367)})


def test_a_user_from_the_roster_or_as_given():
    assert line({"kind": "user", "pin": "7", "name": "Sari"}) == "DATA UPDATE USERINFO PIN=7\tName=Sari"
    budi = Rostered("KAB-A", "100", "Budi Santoso Wicaksono Pratama Utama")
    assert line({"kind": "user", "nip": "1" * 18}, rostered=budi) == (
        "DATA UPDATE USERINFO PIN=100\tName=Budi Santoso Wicaksono P")  # the 24 characters a device keeps
    with pytest.raises(ValueError, match="not on the roster of agency KAB-A"):
        line({"kind": "user", "nip": "1" * 18}, rostered=Rostered("KAB-B", "100", "Budi"))
    with pytest.raises(ValueError, match="not on the roster"):
        line({"kind": "user", "nip": "1" * 18}, rostered=None)
    with pytest.raises(ValueError, match="no device PIN"):
        line({"kind": "user", "nip": "1" * 18}, rostered=Rostered("KAB-A", None, "Budi"))


def test_raw_commands_are_the_operators_only():
    assert line({"command": "CLEAR DATA"}, role="operator") == "CLEAR DATA"
    with pytest.raises(NotAllowed, match="only operators queue raw commands"):
        line({"command": "CLEAR DATA"}, role="admin")
    assert line({"kind": "check"}) == CHECK_COMMAND and line({"kind": "info"}) == INFO_COMMAND


def test_a_queued_command_is_one_bounded_line():
    assert validate_command("  CHECK ") == "CHECK"
    for bad in ("", "CHECK\nINFO", "x" * 2001):
        with pytest.raises(ValueError):
            validate_command(bad)
