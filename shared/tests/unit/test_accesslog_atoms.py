"""``kinerja.accesslog.AccessAtoms``: the access log's values worked out as the format names
them are the values gunicorn's own way gives (every atom built, redacted, wrapped in its
``SafeAtoms``), for every atom, in any case, and for atoms that are not there."""
from __future__ import annotations

import datetime
import logging

import pytest
from gunicorn.config import Config
from gunicorn.glogging import SafeAtoms

from kinerja.accesslog import REDACTED, AccessAtoms, RedactingLogger

pytestmark = pytest.mark.unit
TOKEN = "eyJhbGciOiJIUzI1NiJ9.secret.sig"


class Req:
    def __init__(self, headers):
        self.headers = headers


class Resp:
    status = "200 OK"
    sent = 57
    headers = [("Content-Type", "application/json"), ("X-Quote", 'say "hi"'), ("Vary", "a"), ("Vary", "b")]


def environ(query: str) -> dict:
    return {"REQUEST_METHOD": "POST", "RAW_URI": f"/api/v1/stream?{query}", "PATH_INFO": "/api/v1/stream",
            "QUERY_STRING": query, "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.1.2.3",
            "HTTP_REFERER": f"http://dash/x?{query}", "HTTP_USER_AGENT": 'term "v2"',
            "HTTP_AUTHORIZATION": f"Bearer {TOKEN}", "wsgi.url_scheme": "http", "Mixed.Case": "m"}


REQUEST_HEADERS = [("HOST", "k:8001"), ("AUTHORIZATION", f"Bearer {TOKEN}"), ("X-DUP", "1"), ("X-DUP", "2"),
                   ("REFERER", f"http://dash/?access_token={TOKEN}")]
ELAPSED = datetime.timedelta(seconds=1, microseconds=234567)


@pytest.fixture
def logger():
    cfg = Config()
    cfg.set("accesslog", "-")
    return RedactingLogger(cfg)


def both(logger, query):
    args = (Resp(), Req(REQUEST_HEADERS), environ(query), ELAPSED)
    return SafeAtoms(logger.atoms(*args)), AccessAtoms(logger, *args)


@pytest.mark.parametrize("query", ["SN=BENCH0001&table=ATTLOG", f"x=1&access_token={TOKEN}",
                                   f"access%5Ftoken={TOKEN}&q=%22"])
def test_every_atom_is_what_gunicorn_would_print(logger, query):
    eager, lazy = both(logger, query)
    assert len(eager) > 30  # gunicorn's letters, the headers, the environ
    keys = [k for k in eager if k != "t"]  # the time is read when asked for: compared below
    keys += [k.upper() for k in keys if k.startswith("{")] + ["{nope}i", "{nope}o", "{nope}e", "{host}x", "Z", "{"]
    assert {k: lazy[k] for k in keys} == {k: eager[k] for k in keys}
    assert lazy["t"].startswith("[") and lazy["t"].endswith("]")
    assert dict(lazy).keys() == dict(eager).keys()


@pytest.mark.parametrize("fmt", [
    Config().access_log_format,  # gunicorn's default (kinerja up)
    '%(h)s - - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(D)sus "%(a)s"',  # the image's and notifikasi's
    '%(r)s %(q)s %(f)s {%({authorization}i)s} %({Referer}i)s %({query_string}e)s %({X-Dup}i)s %({vary}o)s %(L)s',
    '%(h)s {%({HTTP_AUTHORIZATION}e)s} %({http_referer}e)s',  # the same header, named as the environ has it
])
def test_a_line_reads_the_same_and_holds_no_token(logger, fmt):
    eager, lazy = both(logger, f"a=1&access_token={TOKEN}")
    line = fmt.replace("%(t)s", "T") % lazy
    assert line == fmt.replace("%(t)s", "T") % eager
    assert TOKEN not in line
    if "authorization" in fmt:
        assert REDACTED in line and "{<redacted>}" in line


def test_the_line_goes_out_through_the_access_log(logger, caplog):
    logger.access_log.propagate = True
    with caplog.at_level(logging.INFO, logger="gunicorn.access"):
        logger.access(Resp(), Req(REQUEST_HEADERS), environ(f"access_token={TOKEN}"), ELAPSED)
    (message,) = {r.getMessage() for r in caplog.records if r.name == "gunicorn.access"}
    assert message.startswith('10.1.2.3 - - [') and f'"POST /api/v1/stream?access_token={REDACTED} HTTP/1.1" 200 57' in message
    assert TOKEN not in message and 'term \\"v2\\"' in message
