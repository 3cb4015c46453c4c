"""The demo load's doors to the services: where they are (``Services``), an HTTP client with
the token of whoever acts (``Client``), and the waits for a service to know the roster. Apart from
``demo_load`` because every service's part (``demo_load_kehadiran``, ``demo_load_penilaian``)
goes through them."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import requests

from kinerja.auth import issue_token
from kinerja.cli.demo_history import Plan


class DemoError(Exception):
    pass


@dataclass
class Services:
    kehadiran: str
    penilaian: str
    kafka_bootstrap: str
    topic_prefix: str
    jwt_secret: str
    jwt_issuer: str
    var_dir: Path


class Client:
    """The demo's HTTP calls, each with the token of the person the plan says acts."""

    def __init__(self, svc: Services):
        self.svc = svc
        self.http = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16)
        self.http.mount("http://", adapter)
        self._tokens: dict[tuple, str] = {}

    def token(self, role: str, nip: str | None = None, agency: str = "", device_sn: str | None = None) -> str:
        key = (role, nip, agency, device_sn)
        if key not in self._tokens:
            self._tokens[key] = issue_token(self.svc.jwt_secret, role=role, agency=agency, nip=nip,
                                            device_sn=device_sn, ttl_s=3600, issuer=self.svc.jwt_issuer)
        return self._tokens[key]

    def call(self, method: str, url: str, tok: str, ok=(200, 201), **kw) -> requests.Response:
        r = self.http.request(method, url, headers={"Authorization": f"Bearer {tok}"}, timeout=60, **kw)
        if r.status_code not in ok:
            raise DemoError(f"{method} {url.split('?')[0]} answered {r.status_code}: {r.text[:300]}")
        return r


def wait_for(what: str, check: Callable[[], bool], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise DemoError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.2)


def everyone_known(plan: Plan, known: Callable[[str], bool]) -> Callable[[], bool]:
    """A check that holds once ``known`` held for every ASN of the roster: the roster's events
    are keyed by NIP over several partitions, so the last one applied says nothing of the others."""
    waiting = [r["nip"] for r in plan.roster]

    def check() -> bool:
        waiting[:] = [nip for nip in waiting if not known(nip)]
        return not waiting
    return check
