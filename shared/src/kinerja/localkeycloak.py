"""A local Keycloak: the OpenID provider the dashboard's sign-in is tested against, and that a demo
can use. Its server distribution comes from Maven Central (``scripts/install-keycloak.sh``, run by
``make test``), built once for a local H2 database; each start here is ``kc.sh start --optimized``
on a free port, with a throwaway database under ``work_dir`` and the demo realm
(``deploy/keycloak/realm-kinerja.json``: realm ``kinerja``, the public client
``kinerja-dashboard`` with PKCE S256, realm roles pegawai/atasan/admin/operator, users whose ``nip``
and ``agency`` attributes and roles become the access token's ``nip``, ``agency`` and
``kinerja_roles`` claims) imported at start."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from kinerja.localbroker import free_port

VERSION = os.environ.get("KEYCLOAK_VERSION", "26.4.7")
ROOT = Path(__file__).resolve().parents[3]
REALM = "kinerja"
CLIENT_ID = "kinerja-dashboard"
# the demo realm's users: username -> (password, NIP, role, agency)
USERS = {
    "siti": ("siti-kinerja", "198102082004121003", "pegawai", "disdik-lamsel"),
    "budi": ("budi-kinerja", "197910022009031002", "atasan", "disdik-lamsel"),
    "dewi": ("dewi-kinerja", "197803132000011001", "admin", "disdik-lamsel"),
}
# what the services need to read the realm's tokens (KINERJA_OIDC_*)
CLAIMS = {"KINERJA_OIDC_NIP_CLAIM": "nip", "KINERJA_OIDC_AGENCY_CLAIM": "agency",
          "KINERJA_OIDC_ROLE_CLAIM": "kinerja_roles", "KINERJA_OIDC_AUDIENCE": "kinerja"}


def keycloak_home(root: Path = ROOT) -> Path | None:
    """The built distribution, or None when ``scripts/install-keycloak.sh`` has not run."""
    home = root / "deploy" / "keycloak" / f"keycloak-{VERSION}"
    return home if (home / ".built").exists() else None


@dataclass
class LocalKeycloak:
    home: Path
    work_dir: Path
    port: int = field(default_factory=free_port)
    realm_file: Path = ROOT / "deploy" / "keycloak" / "realm-kinerja.json"
    proc: subprocess.Popen | None = None
    started_s: float | None = None  # how long the last start took, until the realm answered

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.url}/realms/{REALM}"

    def env(self) -> dict[str, str]:
        """The services' settings for tokens of this realm (and the dashboard's client)."""
        return {"KINERJA_OIDC_ISSUER": self.issuer, "KINERJA_OIDC_JWKS_URL": f"{self.issuer}/protocol/openid-connect/certs",
                "KINERJA_OIDC_CLIENT_ID": CLIENT_ID, **CLAIMS}

    def start(self, timeout_s: float = 300.0) -> "LocalKeycloak":
        self.work_dir.mkdir(parents=True, exist_ok=True)
        seed = self.home / "seed" / "keycloakdb.mv.db"
        if seed.exists():  # Keycloak's schema made once at install: the start skips creating it
            (self.work_dir / "h2").mkdir(exist_ok=True)
            shutil.copyfile(seed, self.work_dir / "h2" / "keycloakdb.mv.db")
        imports = self.home / "data" / "import"
        imports.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.realm_file, imports / self.realm_file.name)
        log = open(self.work_dir / "keycloak.log", "wb")
        env = {**os.environ, "JAVA_OPTS_APPEND": os.environ.get("KEYCLOAK_JAVA_OPTS_APPEND",
                                                                "-XX:TieredStopAtLevel=1 -Xshare:auto")}
        began = time.monotonic()
        self.proc = subprocess.Popen(
            [str(self.home / "bin" / "kc.sh"), "start", "--optimized", "--http-enabled=true", "--http-host=127.0.0.1",
             f"--http-port={self.port}", f"--http-management-port={free_port()}", "--hostname-strict=false", "--cache=local",
             f"--db-url=jdbc:h2:file:{self.work_dir / 'h2' / 'keycloakdb'};NON_KEYWORDS=VALUE", "--import-realm",
             "--log-level=WARN"],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Keycloak exited ({self.proc.returncode}): {self.tail()}")
            if self._answers():
                self.started_s = time.monotonic() - began
                return self
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Keycloak did not answer within {timeout_s:.0f} s: {self.tail()}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.issuer}/.well-known/openid-configuration", timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def tail(self, lines: int = 30) -> str:
        path = self.work_dir / "keycloak.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, 15)  # kc.sh and its JVM: the process group this start made
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(timeout=10)
