"""The security suite's report: every attack the tests make is counted here, and the totals are
printed at the end of the session (routes covered, attempts made, attempts that got through)."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import pytest


@dataclass
class SecurityReport:
    routes: set = field(default_factory=set)          # (service, METHOD, rule)
    attempts: Counter = field(default_factory=Counter)  # kind -> count
    through: list = field(default_factory=list)        # (kind, service, METHOD, url, status, why)
    server_errors: int = 0                              # attempts answered with a 5xx

    def attempt(self, kind: str, service: str, method: str, rule: str, *, got_through: str | None = None,
                url: str = "", status: int | None = None) -> None:
        # one name per route whether it came from the url_map (<nip>) or the OpenAPI document ({nip})
        self.routes.add((service, method.upper(), re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)))
        self.attempts[kind] += 1
        if status is not None and status >= 500:
            self.server_errors += 1
        if got_through:
            self.through.append((kind, service, method.upper(), url or rule, status, got_through))


REPORT_KEY = pytest.StashKey[SecurityReport]()


def _report(config) -> SecurityReport:
    if REPORT_KEY not in config.stash:
        config.stash[REPORT_KEY] = SecurityReport()
    return config.stash[REPORT_KEY]


@pytest.fixture(scope="session")
def security_report(request) -> SecurityReport:
    return _report(request.config)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    report = config.stash.get(REPORT_KEY, None)
    if report is None:
        return
    tr = terminalreporter
    tr.section("security report")
    services = Counter(s for s, _, _ in report.routes)
    tr.write_line(f"routes covered (method + rule): {len(report.routes)} "
                  f"({', '.join(f'{s} {n}' for s, n in sorted(services.items()))})")
    tr.write_line(f"attempts made: {sum(report.attempts.values())}")
    for kind, n in sorted(report.attempts.items()):
        tr.write_line(f"  {kind}: {n}")
    known = [t for t in report.through if str(t[5]).startswith("KNOWN BUG")]
    unexpected = [t for t in report.through if not str(t[5]).startswith("KNOWN BUG")]
    tr.write_line(f"answers 5xx: {report.server_errors}")
    tr.write_line(f"attempts that got through: {len(report.through)} "
                  f"(unexpected: {len(unexpected)}; known bugs, marked xfail(strict): {len(known)})")
    for kind, service, method, url, status, why in unexpected[:50]:
        tr.write_line(f"  THROUGH {kind} {service} {method} {url} -> {status}: {why}")
    known_routes = sorted({(t[1], t[2], t[3].split("?")[0], t[0]) for t in known})
    for service, method, url, kind in known_routes[:60]:
        tr.write_line(f"  known bug: {kind} {service} {method} {url}")
