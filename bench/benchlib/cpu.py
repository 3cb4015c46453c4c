"""CPU seconds spent by each part of the system over a window, read from ``/proc``: each process
of a ``kinerja.stack.Stack`` (a gunicorn master apart from its workers), PostgreSQL's processes
(backends by the database they serve, when told which service owns which database; the backends
that exited in the window through the postmaster's reaped-children time), the Kafka broker, and
the benchmark's own client processes (senders and stream readers apart, when told their pids).
Per punch these are load-independent enough to say where a punch's CPU goes on two cores, which a
latency figure cannot."""
from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _procs() -> dict[int, tuple[int, str, float, float]]:
    """pid → (parent pid, command name, CPU seconds: user + system, reaped children's CPU s)."""
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            raw = (d / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        f = raw[raw.rindex(")") + 2:].split()
        out[int(d.name)] = (int(f[1]), comm, (int(f[11]) + int(f[12])) / _TICK, (int(f[13]) + int(f[14])) / _TICK)
    return out


def _pg_part(pid: int, pg_dbs: dict[str, str]) -> str:
    """``postgresql <service>`` for a backend of a service's database (its process title names the
    database), else ``postgresql other`` (postmaster, checkpointer, walwriter, ...)."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
    except OSError:
        return "postgresql other"
    # "postgres: <user> <database> <host(port)> <state>"
    if len(title) >= 3 and title[0] == "postgres:" and title[2] in pg_dbs:
        return f"postgresql {pg_dbs[title[2]]}"
    return "postgresql other"


def _postmaster(procs, port: int | None) -> int | None:
    """The pid of the postmaster started with ``-p <port>`` (its parent is not a postgres)."""
    if port is None:
        return None
    for pid, (ppid, comm, _, _) in procs.items():
        if comm.startswith("postgres") and procs.get(ppid, (0, ""))[1] != "postgres":
            try:
                args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"-p" in args and args[args.index(b"-p") + 1:args.index(b"-p") + 2] == [str(port).encode()]:
                return pid
    return None


def snapshot(stack_pids: dict[int, str], clients: dict[int, str] | None = None,
             pg_dbs: dict[str, str] | None = None, pg_port: int | None = None) -> dict[str, float]:
    """CPU seconds so far per part: a stack process's name (its descendants, such as gunicorn's
    workers, as ``<name> workers``); ``clients`` (pid → name: the senders, the stream readers) and
    their descendants by their own name; ``postgresql`` (split by ``pg_dbs``, database name →
    service, when given); ``kafka broker``; and ``benchmark client`` for the rest of this
    process's tree. PostgreSQL and the broker count only when they are this benchmark's: the
    postmaster listening on ``pg_port`` and its children (without ``pg_port``, every PostgreSQL
    process on the machine, as before: right only on a quiet machine), a ``java`` process
    descending from this one."""
    procs = _procs()
    me = os.getpid()
    own_pg = _postmaster(procs, pg_port)
    clients = clients or {}
    parts: dict[str, float] = {}
    for pid, (_, comm, cpu, reaped) in procs.items():
        part, p, seen = None, pid, 0
        while p in procs and seen < 64:
            if p in stack_pids:
                part = stack_pids[p] if p == pid else f"{stack_pids[p]} workers"
                break
            if p in clients:
                part = clients[p]
                break
            if p == me:
                part = "benchmark client"
                break
            p, seen = procs[p][0], seen + 1
        if comm == "postgres" or comm.startswith("postgres"):
            # only this benchmark's cluster: other PostgreSQL servers on the machine are not ours
            if own_pg is not None and pid != own_pg and procs[pid][0] != own_pg:
                continue
            if pg_dbs is None:
                part = "postgresql"
            else:
                part = _pg_part(pid, pg_dbs)
                if procs.get(procs[pid][0], (0, ""))[1] != "postgres":  # the postmaster: its exited backends
                    part, cpu = "postgresql postmaster+exited", cpu + reaped
                    reaped = 0.0
        elif comm == "java":
            if part is None:  # a broker this benchmark did not start (another one's on the machine)
                continue
            part = "kafka broker"
        if part is not None:
            # a process that exits in the window takes its CPU with it; its parent's reaped-children
            # time brings it back (to the parent's part), so a window's deltas never go negative
            parts[part] = parts.get(part, 0.0) + cpu + reaped
    return parts


def stack_pids(stack) -> dict[int, str]:
    return {p.popen.pid: p.name for p in stack.procs if p.popen.poll() is None}


def client_pids(senders=None, streams=None) -> dict[int, str]:
    """pid → name of the benchmark's sender processes (``benchlib.senders.Senders``) and stream
    reader processes (``benchlib.streams.StreamReaders``)."""
    out: dict[int, str] = {}
    if senders is not None:
        for pid in getattr(senders.pool, "_processes", None) or {}:
            out[pid] = "bench senders"
    if streams is not None:
        for p in streams.procs:
            out[p.pid] = "bench stream clients"
    return out


def pg_port(server_url: str | None) -> int | None:
    """The port of a PostgreSQL URL (None: no PostgreSQL)."""
    from urllib.parse import urlsplit

    return urlsplit(server_url).port if server_url else None


def pg_databases(urls: dict[str, str]) -> dict[str, str] | None:
    """Database name → service of PostgreSQL URLs (None when none is PostgreSQL)."""
    out = {u.rsplit("/", 1)[1].split("?")[0]: svc for svc, u in urls.items() if u.startswith("postgres")}
    return out or None


def report(before: dict[str, float], after: dict[str, float], punches: int, wall_s: float) -> str:
    """CPU ms per punch per part, and the share of the machine's cores over the window; then the
    system's own total apart from the benchmark's clients."""
    cores = os.cpu_count() or 1
    rows = sorted(((after[k] - before.get(k, 0.0), k) for k in after), reverse=True)
    total = sum(d for d, _ in rows)
    bench = sum(d for d, k in rows if k.startswith("bench"))
    per = (lambda d: f"{1000 * d / punches:10.2f}") if punches else (lambda d: f"{'-':>10}")
    lines = [f"CPU over the run ({wall_s:.0f} s, {punches} punches; {cores} cores = {cores * wall_s:.0f} CPU s):",
             f"{'part':<34}{'CPU s':>8}{'ms/punch':>10}{'of the cores':>14}"]
    for d, k in rows:
        if d >= 0.005:
            lines.append(f"{k:<34}{d:8.1f}{per(d)}{100 * d / (cores * wall_s):13.1f}%")
    lines.append(f"{'all':<34}{total:8.1f}{per(total)}{100 * total / (cores * wall_s):13.1f}%")
    lines.append(f"{'the system (all but bench*)':<34}{total - bench:8.1f}{per(total - bench)}"
                 f"{100 * (total - bench) / (cores * wall_s):13.1f}%")
    return "\n".join(lines)
