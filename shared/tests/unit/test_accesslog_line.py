"""``RedactingLogger.access`` writes a line straight to the stream of gunicorn's own access-log
handler: the same bytes the logging module would write, in fewer Python calls (counted, not
timed), and the logging module's way whenever something else (a filter, another formatter, a
handler of another kind) must see the record."""
from __future__ import annotations

import datetime
import logging

import pytest
from gunicorn.config import Config

from kinerja.accesslog import REDACTED, RedactingLogger
from kinerja.testing.counting import python_calls

pytestmark = pytest.mark.unit
TOKEN = "eyJhbGciOiJIUzI1NiJ9.secret.sig"
# the image's format (deploy/docker/gunicorn.conf.py); kinerja.stack runs gunicorn's default
IMAGE_FORMAT = '%(h)s - - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(D)sus "%(a)s"'
# Python calls of one line, gunicorn's default format, measured: 49 written straight to the
# handler's stream (59 here: the test's stubs add some), 91 through logging.Logger.info
# (LogRecord, handler dispatch, Formatter)
BUDGET = 65


class Req:
    headers = [("HOST", "127.0.0.1:8001"), ("USER-AGENT", "iClock Proxy/1.09"), ("CONTENT-LENGTH", "30"),
               ("AUTHORIZATION", f"Bearer {TOKEN}")]


class Resp:
    status = "200 OK"
    sent = 4
    headers = [("Content-Type", "text/plain; charset=utf-8")]


ENVIRON = {"REQUEST_METHOD": "POST", "RAW_URI": f"/iclock/cdata?SN=BENCH0001&access_token={TOKEN}",
           "PATH_INFO": "/iclock/cdata", "QUERY_STRING": f"SN=BENCH0001&access_token={TOKEN}",
           "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": 'iClock "Proxy"/1.09',
           "HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
ARGS = (Resp(), Req(), ENVIRON, datetime.timedelta(microseconds=1234))


def logger_to(path, fmt: str | None = None) -> RedactingLogger:
    cfg = Config()
    cfg.set("accesslog", str(path))
    if fmt:
        cfg.set("access_log_format", fmt)
    logger = RedactingLogger(cfg)
    log = logger.access_log  # gunicorn's handler alone (pytest's log capture may add its own)
    log.handlers[:] = [h for h in log.handlers if getattr(h, "_gunicorn", False)]
    logger.now = lambda: "[06/Dec/2026:17:00:00 +0000]"  # the one atom that changes between lines
    return logger


@pytest.fixture(autouse=True)
def _own_access_logger():
    """gunicorn's ``gunicorn.access`` logger is the process's: each test starts it with no handler
    (pytest's log capture may have put its own there) and leaves nothing of its own behind."""
    log = logging.getLogger("gunicorn.access")
    before, before_filters = list(log.handlers), list(log.filters)
    log.handlers.clear()
    log.filters.clear()
    yield
    for handler in log.handlers:
        handler.close()
    log.handlers[:] = before
    log.filters[:] = before_filters


class PassAll(logging.Filter):
    def filter(self, record) -> bool:
        return True


@pytest.mark.parametrize("fmt", [None, IMAGE_FORMAT, '%(r)s %(q)s {%({authorization}i)s} %({user-agent}i)s'])
def test_the_line_is_what_logging_would_write(tmp_path, fmt):
    direct, through_logging = tmp_path / "direct.log", tmp_path / "logging.log"
    logger_to(direct, fmt).access(*ARGS)
    logger_to(direct, fmt).access(*ARGS)
    slow = logger_to(through_logging, fmt)
    slow.access_log.addFilter(PassAll())  # a filter must see the record: the logging module's way
    slow.access(*ARGS)
    slow.access(*ARGS)
    assert direct.read_text() == through_logging.read_text()
    lines = direct.read_text().splitlines()
    assert len(lines) == 2 and lines[0] == lines[1] and lines[0]
    assert TOKEN not in direct.read_text()
    if fmt and "authorization" in fmt:
        assert "{" + REDACTED + "}" in lines[0] and lines[0].endswith(" iClock Proxy/1.09")


def test_a_filter_or_another_formatter_still_sees_the_record(tmp_path):
    path = tmp_path / "access.log"
    dropping = logger_to(path)
    dropping.access_log.addFilter(lambda record: False)
    dropping.access(*ARGS)
    assert path.read_text() == ""
    dropping.access_log.filters.clear()
    (handler,) = dropping.access_log.handlers
    handler.setFormatter(logging.Formatter("access: %(message)s"))
    dropping.access(*ARGS)
    assert path.read_text().startswith("access: 127.0.0.1 - - [06/Dec/2026:17:00:00 +0000] \"POST /iclock/cdata?")


def test_a_closed_file_is_reopened_by_its_handler(tmp_path):
    path = tmp_path / "access.log"
    logger = logger_to(path)
    (handler,) = logger.access_log.handlers
    handler.close()  # its stream is None until the handler's own emit opens the file again
    logger.access(*ARGS)
    assert path.read_text().count("\n") == 1


def test_a_line_stays_within_its_python_budget(tmp_path):
    logger = logger_to(tmp_path / "access.log")
    logger.access(*ARGS)
    calls, _ = python_calls(lambda: logger.access(*ARGS))
    slow = logger_to(tmp_path / "slow.log")
    slow.access_log.addFilter(PassAll())
    slow_calls, _ = python_calls(lambda: slow.access(*ARGS))
    assert calls <= BUDGET < slow_calls, (calls, slow_calls)
    assert (tmp_path / "access.log").read_text().count("\n") == 2
