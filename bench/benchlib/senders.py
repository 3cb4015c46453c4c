"""Open-loop punch senders: POST j goes out at t0 + j·batch/rate whatever the earlier ones are doing
(asyncio over raw keep-alive sockets in processes of their own, the POSTs dealt round-robin to them)."""
from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import dataclass
from urllib.parse import urlsplit

from benchlib.rawhttp import Job, Pool


def punches_body(items: list) -> dict:
    """The JSON body of one POST of ``items`` (punches as (pin, ..., day))."""
    return {"punches": [{"pin": str(p[0]), "time": f"{p[2].isoformat()}T07:45:00+07:00"} for p in items]}


def post_request(host: str, port: int, path: str, token: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


async def send_share(url: str, tokens: list[str], posts: list, rate: float, connections: int,
                     http_timeout: float, t0: float) -> dict:
    """One sender process's POSTs: ``posts`` = [(j, first punch index, [punches])], POST j sent at
    wall-clock t0 + first/rate (up to a millisecond early, so a burst of due POSTs costs one
    wake-up). Per punch index: (sent, answered, ok, status). Raw keep-alive sockets
    (``benchlib.rawhttp``): the client's CPU a POST is a fraction of aiohttp's, and it shares the
    cores with the system it measures."""
    u = urlsplit(url)
    host, port = u.hostname, u.port
    results: dict[int, tuple] = {}
    pool = Pool(host, port, connections, results)
    jobs = []
    for j, first, items in posts:
        body = json.dumps(punches_body(items), separators=(",", ":")).encode()
        jobs.append(Job(first, len(items), post_request(host, port, "/api/v1/punches",
                                                        tokens[j % len(tokens)], body)))
    max_lag = 0.0
    for job in jobs:
        delay = t0 + job.first / rate - time.time()
        if delay > 0.001:
            await asyncio.sleep(delay)
        elif delay < 0:
            max_lag = max(max_lag, -delay)
        job.sent = time.time()
        pool.submit(job)
    pool.finish()
    if jobs:
        try:
            await asyncio.wait_for(pool.all_done.wait(), http_timeout)
        except asyncio.TimeoutError:
            for job in jobs:
                if job.first not in results:
                    for k in range(job.n):
                        results[job.first + k] = (job.sent, time.time(), False, "timeout")
    return {"results": results, "max_sender_lag_s": max_lag}


async def send_share_aiohttp(url: str, tokens: list[str], posts: list, rate: float, connections: int,
                     http_timeout: float, t0: float) -> dict:
    """``send_share`` with aiohttp's client (the senders before ``benchlib.rawhttp``; for an A/B of
    the client's own CPU)."""
    import aiohttp

    results: dict[int, tuple] = {}
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=http_timeout)
    max_lag = 0.0
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        async def one(j: int, first: int, items: list):
            body = punches_body(items)
            sent = time.time()
            try:
                async with http.post(f"{url}/api/v1/punches", json=body,
                                     headers={"Authorization": f"Bearer {tokens[j % len(tokens)]}"}) as r:
                    ok = r.status == 200 and ((await r.json()).get("accepted", 0) == len(items))
                    status = r.status
            except Exception as exc:  # noqa: BLE001 - count it as failed
                ok, status = False, repr(exc)[:80]
            done = time.time()
            for k in range(len(items)):
                results[first + k] = (sent, done, ok, status)

        tasks = []
        for j, first, items in posts:
            delay = t0 + first / rate - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                max_lag = max(max_lag, -delay)
            tasks.append(asyncio.create_task(one(j, first, items)))
        await asyncio.gather(*tasks)
    return {"results": results, "max_sender_lag_s": max_lag}


@dataclass
class Senders:
    pool: ProcessPoolExecutor
    count: int
    client: str = "raw"  # or "aiohttp" (``send_share_aiohttp``)


def sender_main(url: str, tokens: list[str], posts: list, rate: float, connections: int, http_timeout: float,
                t0: float, client: str = "raw") -> dict:
    share = send_share_aiohttp if client == "aiohttp" else send_share
    return asyncio.run(share(url, tokens, posts, rate, connections, http_timeout, t0))


def send_open_loop(senders, url: str, tokens: list[str], punches: list, rate: float, connections: int, batch: int,
                   http_timeout: float, while_waiting=None) -> dict:
    """POST ``batch`` punches at a time, POST j at t0 + j·batch/rate, the POSTs dealt round-robin
    to the sender processes; per punch (sent, answered, ok, status). ``while_waiting`` is called
    every 0.2 s meanwhile (the stream clients' frames are read as they come, so their pipe never
    fills and holds the clients up)."""
    posts = [(j, first, punches[first:first + batch]) for j, first in enumerate(range(0, len(punches), batch))]
    k = senders.count
    t0 = time.time() + 0.5
    futures = [senders.pool.submit(sender_main, url, tokens, posts[m::k], rate, connections, http_timeout, t0,
                                  senders.client)
               for m in range(k)]
    while True:
        done, running = wait(futures, timeout=0.2, return_when=FIRST_EXCEPTION)
        if while_waiting is not None:
            while_waiting()
        if not running or any(f.exception() for f in done):
            break
    results: list = [None] * len(punches)
    max_lag = 0.0
    for f in futures:
        out = f.result()
        max_lag = max(max_lag, out["max_sender_lag_s"])
        for i, r in out["results"].items():
            results[i] = r
    return {"results": results, "send_seconds": (len(punches) - 1) / rate, "max_sender_lag_s": max_lag}
