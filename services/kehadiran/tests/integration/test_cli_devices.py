"""The operator's `kinerja device` commands against a real kehadiran HTTP server."""
import json
import threading

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.migrate import main as migrate
from kinerja.cli.main import cli
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration


@pytest.fixture
def kehadiran_url(sqlite_url):
    migrate(sqlite_url)
    app = create_app({"database_url": sqlite_url, "kafka_bootstrap": "127.0.0.1:1"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    runtime_of(app).dispose()


def run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def test_register_queue_a_command_and_read_the_status(kehadiran_url):
    added = run("device", "add", "--sn", "ZK77", "--agency", "disdik", "--tz", "8", "--url", kehadiran_url)
    assert added.exit_code == 0 and json.loads(added.output)["tz_offset_minutes"] == 480
    queued = run("device", "command", "--sn", "ZK77", "--reupload", "2026-11-02 00:00:00", "2026-11-03 00:00:00",
                 "--url", kehadiran_url)
    assert queued.exit_code == 0, queued.output
    assert json.loads(queued.output)["command"].startswith("DATA QUERY ATTLOG StartTime=2026-11-02 00:00:00")
    status = run("device", "status", "--sn", "ZK77", "--url", kehadiran_url)
    assert status.exit_code == 0 and json.loads(status.output)["sn"] == "ZK77"
    refused = run("device", "command", "--sn", "NOPE", "--raw", "CHECK", "--url", kehadiran_url)
    assert refused.exit_code != 0 and "404" in refused.output
    usage = run("device", "command", "--sn", "ZK77", "--url", kehadiran_url)
    assert usage.exit_code == 2 and "exactly one" in usage.output
