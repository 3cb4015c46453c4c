"""A real Apache Kafka broker (KRaft, combined mode) on 127.0.0.1, from the jars that
``deploy/kafka/pom.xml`` resolves. Used by ``kinerja broker``, ``make run`` and the test harness.

start: resolve jars if missing → render server.properties → format storage on first start →
launch the JVM in its own process group → wait until it answers a metadata request → create the
topics. stop: SIGTERM the group, wait, SIGKILL if it will not go. Both are harmless to repeat.
"""
from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from string import Template

from kinerja.config import default_partitions, port_number, repo_var_dir


DEFAULT_JVM_OPTS = "-XX:+UseG1GC -XX:MaxGCPauseMillis=20"
# a broker that lives minutes at a low rate (a test session): C1 only and the serial collector.
# C2 keeps compiling on the machine's two cores for minutes after start, and a test's trickle of
# records never repays it; a relay's 200 records/s cost such a broker about a third less CPU per
# record and at idle (one-off A/B, see the branch's report). Long-lived brokers keep C2 (its code is
# faster at full speed) unless KINERJA_KAFKA_JVM_OPTS says otherwise.
SHORT_LIVED_JVM_OPTS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"


class BrokerError(RuntimeError):
    pass


def find_kafka_home() -> Path:
    """``KINERJA_KAFKA_HOME``, else ``deploy/kafka`` in the current directory or one above it."""
    env = os.environ.get("KINERJA_KAFKA_HOME")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for base in (here, *here.parents):
        candidate = base / "deploy" / "kafka"
        if (candidate / "pom.xml").exists():
            return candidate
    raise BrokerError("deploy/kafka not found; run from the repository or set KINERJA_KAFKA_HOME")


def port_open(port: int, host: str = "127.0.0.1", timeout_s: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalBroker:
    home: Path
    data_dir: Path
    port: int = 9092
    controller_port: int = 9093
    partitions: int | None = None  # of the topics it creates; None: KINERJA_PARTITIONS when started
    heap: str = "512m"
    # the JVM's GC and JIT flags; None: ``KINERJA_KAFKA_JVM_OPTS``, else ``DEFAULT_JVM_OPTS``
    jvm_opts: str | None = None

    @classmethod
    def default(cls, port: int | None = None, data_dir: Path | None = None) -> "LocalBroker":
        port = port or port_number(os.environ, "KINERJA_KAFKA_PORT", 9092)
        return cls(
            home=find_kafka_home(),
            data_dir=(data_dir or repo_var_dir() / "kafka").resolve(),
            port=port,
            controller_port=port_number(os.environ, "KINERJA_KAFKA_CONTROLLER_PORT", port + 1),
        )

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def lib(self) -> Path:
        return self.home / "lib"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "broker.pid"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    # -- install ---------------------------------------------------------------------------
    def installed(self) -> bool:
        return self.lib.is_dir() and any(self.lib.glob("kafka_2.13-*.jar"))

    def install(self) -> None:
        if self.installed():
            return
        cmd = ["mvn", "-q", "-B", "-f", str(self.home / "pom.xml"), "package"]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0 or not self.installed():
            raise BrokerError(f"resolving the Kafka jars failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")

    # -- process -----------------------------------------------------------------------------
    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def topic_partitions(self) -> int:
        return self.partitions if self.partitions is not None else default_partitions()

    def _render_config(self) -> Path:
        template = Template((self.home / "server.properties.template").read_text())
        config = template.substitute(
            port=self.port,
            controller_port=self.controller_port,
            data_dir=str(self.data_dir / "data"),
            partitions=self.topic_partitions(),
        )
        path = self.data_dir / "server.properties"
        path.write_text(config)
        return path

    def _java(self, *args: str, **kw) -> list[str]:
        opts = self.jvm_opts if self.jvm_opts is not None else os.environ.get("KINERJA_KAFKA_JVM_OPTS") or DEFAULT_JVM_OPTS
        return [
            "java",
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            *opts.split(),
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.xml'}",
            f"-Dkafka.logs.dir={self.log_dir}",
            "-cp",
            f"{self.lib}/*",
            *args,
        ]

    def _format(self, config: Path) -> None:
        if (self.data_dir / "data" / "meta.properties").exists():
            return
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        result = subprocess.run(
            # --cluster-id=: a base64url id starts with "-" one time in 64, which the tool's argument
            # parser would take for an option (``-t <id>`` then fails with "expected one argument")
            self._java("kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}", "-c", str(config)),
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise BrokerError(f"formatting storage failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")

    def start(self, timeout_s: float = 90.0, create_topics: bool = True, prefix: str = "") -> str:
        self.install()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if not self.running():
            if port_open(self.port):
                raise BrokerError(f"port {self.port} is taken by another process")
            config = self._render_config()
            self._format(config)
            out = open(self.log_dir / "stdout.log", "ab")
            proc = subprocess.Popen(
                self._java("kafka.Kafka", str(config)),
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            self.pid_file.write_text(str(proc.pid))
        self.wait_ready(timeout_s)
        if create_topics:
            from kinerja.messaging.topics import ensure_topics

            ensure_topics(self.bootstrap, prefix=prefix, partitions=self.topic_partitions())
        return self.bootstrap

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        """Poll until the broker answers a metadata request, or fail with its log tail."""
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            if not self.running():
                raise BrokerError(f"broker exited during start-up:\n{self.log_tail()}")
            if port_open(self.port):
                try:
                    admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000,
                                             client_id="kinerja-broker-probe")
                    try:
                        admin.describe_cluster()
                        return
                    finally:
                        admin.close()
                except KafkaError as exc:
                    last = exc
            time.sleep(0.25)
        raise BrokerError(f"broker not ready after {timeout_s}s ({last!r}):\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        for name in ("server.log", "stdout.log"):
            path = self.log_dir / name
            if path.exists():
                return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        return "(no broker log)"

    def stop(self, timeout_s: float = 30.0) -> bool:
        """True if a broker was running and is now stopped."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self._alive(pid):
            time.sleep(0.1)
        if self._alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            while self._alive(pid):
                time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)
        return True

    @staticmethod
    def _alive(pid: int) -> bool:
        try:
            # reap it if it is our child, so it does not linger as a zombie
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                return False
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        # a zombie that is not our child still answers kill(0); read its state
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
            return state != "Z"
        except (FileNotFoundError, IndexError):
            return False

    def status(self) -> dict:
        pid = self.pid()
        return {
            "running": pid is not None,
            "pid": pid,
            "bootstrap": self.bootstrap,
            "answers": port_open(self.port) if pid else False,
            "data_dir": str(self.data_dir),
        }
