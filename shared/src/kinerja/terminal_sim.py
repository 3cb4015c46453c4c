"""A simulated attendance terminal speaking the ZKTeco ADMS push protocol, as the tests' stand-in
for the devices agencies buy: the handshake, punches pushed as they happen or in batches, the
command poll and its replies. It behaves as terminals in the field do:

- several terminals at one office (``Terminal.burst``: the lobby's, then the floor's a minute
  later, for the same person);
- PINs kept at a fixed width with leading zeros (``pin_width=3``: the roster's ``7`` is ``007``);
- command replies that never come (``drop_replies``: the poll takes the command, no devicecmd
  follows, as when the terminal reboots or its network drops);
- push protocol 3.x firmware (``pushver="3.1.1"``): it asks the server for the time
  (``/iclock/rtdata``), answers ``DATA QUERY`` on ``/iclock/querydata``, pushes attendance
  photos (``ATTPHOTO``) and biometric templates (``BIODATA``);
- its own clock in its own zone (``tz_offset_minutes``: WIB 420, WITA 480, WIT 540).

It talks through a ``transport``: ``FlaskTransport`` (a Flask test client) or ``HttpTransport``
(a running server's base URL). Every reply is returned so tests can hold it to the protocol.
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

USER_AGENT = "iClock Proxy/1.09"


@dataclass
class Reply:
    status: int
    text: str
    headers: dict[str, str]


class Transport(Protocol):
    def request(self, method: str, path: str, params: dict[str, Any], body: bytes | None = None) -> Reply: ...


class FlaskTransport:
    """Through a Flask test client (in-process)."""

    def __init__(self, client):
        self.client = client

    def request(self, method, path, params, body=None):
        r = self.client.open(path, method=method, query_string=params, data=body, content_type="text/plain",
                             headers={"User-Agent": USER_AGENT})
        return Reply(r.status_code, r.get_data(as_text=True), dict(r.headers))


class HttpTransport:
    """Over HTTP to a running kehadiran (``requests``)."""

    def __init__(self, base_url: str, timeout_s: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def request(self, method, path, params, body=None):
        import requests

        r = requests.request(method, self.base_url + path, params=params, data=body, timeout=self.timeout_s,
                             headers={"User-Agent": USER_AGENT, "Content-Type": "text/plain"})
        return Reply(r.status_code, r.text, dict(r.headers))


@dataclass
class Terminal:
    sn: str
    transport: Transport
    tz_offset_minutes: int = 420
    pushver: str = "2.4.1"
    pin_width: int | None = None  # PINs padded with zeros to this width, as some terminals keep them
    drop_replies: bool = False  # take commands, never answer them
    options: dict[str, str] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)  # ATTLOG lines not pushed yet
    commands_seen: list[tuple[int, str]] = field(default_factory=list)
    clock_offset: timedelta = timedelta(0)  # how far its clock is from true local time

    # -- clock --------------------------------------------------------------------------------
    def local_now(self) -> datetime:
        return (datetime.now(timezone.utc) + timedelta(minutes=self.tz_offset_minutes)).replace(tzinfo=None) \
            + self.clock_offset

    def pin(self, pin: str) -> str:
        return pin.zfill(self.pin_width) if self.pin_width else pin

    # -- protocol -----------------------------------------------------------------------------
    def call(self, method: str, path: str, body: bytes | None = None, **params) -> Reply:
        return self.transport.request(method, f"/iclock/{path}", {"SN": self.sn, **params}, body)

    def handshake(self) -> Reply:
        reply = self.call("GET", "cdata", options="all", pushver=self.pushver, language="69",
                          **({"DeviceType": "att", "PushOptionsFlag": "1"} if self.pushver.startswith("3") else {}))
        if reply.status == 200:
            self.options = dict(line.split("=", 1) for line in reply.text.splitlines()[1:] if "=" in line)
        return reply

    def punch(self, pin: str, local: datetime, *, status: int = 0, verify: int = 1) -> None:
        """A person touches the terminal at ``local`` (its wall clock); pushed by ``push``."""
        fields = [self.pin(pin), f"{local:%Y-%m-%d %H:%M:%S}", str(status), str(verify), "0", "0", "0"]
        if self.pushver.startswith("3"):
            fields += ["0", "255", "0", "0", ""]  # mask flag, temperature, ... (newer firmware: 12 fields)
        self.pending.append("\t".join(fields))

    def push(self, stamp: int = 1) -> Reply:
        """Upload the punches not pushed yet (one request), as ``Realtime=1`` or a backlog does."""
        body = ("\n".join(self.pending) + "\n").encode()
        reply = self.call("POST", "cdata", body, table="ATTLOG", Stamp=str(stamp))
        if reply.status == 200:
            self.pending = []
        return reply

    def poll(self) -> list[tuple[int, str]]:
        """``getrequest``: the commands handed out; answered at once (``Return=0``) unless the
        terminal drops its replies."""
        reply = self.call("GET", "getrequest", INFO=f"Ver 6.60,{0},{0},{0},10.0.0.2")
        commands = []
        for line in reply.text.splitlines():
            m = re.match(r"^C:(\d+):(.*)$", line.strip())
            if m:
                commands.append((int(m.group(1)), m.group(2)))
        self.commands_seen += commands
        if commands and not self.drop_replies:
            self.answer(commands)
        return commands

    def answer(self, commands: list[tuple[int, str]], return_code: int = 0) -> Reply:
        body = "\n".join(f"ID={cid}&Return={return_code}&CMD={cmd.split(' ')[0]}" for cid, cmd in commands)
        return self.call("POST", "devicecmd", body.encode())

    def ping(self) -> Reply:
        return self.call("GET", "ping")

    # -- push protocol 3.x --------------------------------------------------------------------
    def sync_time(self) -> tuple[datetime, str]:
        """``GET /iclock/rtdata?type=time``: the time the server gives (unpacked) and its zone."""
        reply = self.call("GET", "rtdata", type="time")
        assert reply.status == 200, reply.text
        values = dict(part.split("=", 1) for part in reply.text.strip().split(","))
        return unpack_time(int(values["DateTime"])), values["ServerTZ"]

    def answer_query(self, cmd_id: int, table: str, records: list[dict[str, str]]) -> Reply:
        """``POST /iclock/querydata``: a ``DATA QUERY`` command's records, one a line."""
        body = "\n".join(f"{table} " + "\t".join(f"{k}={v}" for k, v in r.items()) for r in records) + "\n"
        return self.call("POST", "querydata", body.encode(), type="tabledata", cmdid=str(cmd_id), tablename=table,
                         count=str(len(records)), packcnt="1", packidx="1")

    def push_photo(self, pin: str, local: datetime, jpeg: bytes) -> Reply:
        name = f"{local:%Y%m%d%H%M%S}-{self.pin(pin)}.jpg"
        header = f"PIN={name}\nSN={self.sn}\nsize={len(jpeg)}\nCMD=uploadphoto".encode()
        return self.call("POST", "cdata", header + b"\x00" + jpeg, table="ATTPHOTO", Stamp="1")

    def push_templates(self, templates: list[tuple[str, int, bytes]]) -> Reply:
        """``(pin, type, template)``: 1 fingerprint, 9 visible-light face."""
        lines = [f"BIODATA Pin={self.pin(pin)}\tNo=0\tIndex=0\tValid=1\tDuress=0\tType={kind}\tMajorVer=39\t"
                 f"MinorVer=1\tFormat=0\tTmp={base64.b64encode(data).decode()}" for pin, kind, data in templates]
        return self.call("POST", "cdata", ("\n".join(lines) + "\n").encode(), table="BIODATA", Stamp="1")

    # -- several terminals --------------------------------------------------------------------
    def burst(self, other: "Terminal", pin: str, local: datetime, gap: timedelta = timedelta(seconds=40)) -> None:
        """The same person on this terminal (the lobby) and ``other`` (the floor) ``gap`` later;
        each pushes its own punch."""
        self.punch(pin, local)
        other.punch(pin, local + gap)
        for terminal in (self, other):
            reply = terminal.push()
            assert reply.status == 200, reply.text


def unpack_time(value: int) -> datetime:
    """ZKTeco's packed time back to a wall clock (months of 31 days, years of 12 x 31)."""
    second, value = value % 60, value // 60
    minute, value = value % 60, value // 60
    hour, value = value % 24, value // 24
    day, value = value % 31 + 1, value // 31
    month, value = value % 12 + 1, value // 12
    return datetime(value + 2000, month, day, hour, minute, second)
