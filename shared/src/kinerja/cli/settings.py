"""What every command needs: the settings (with the installation's signing secret), where a
service answers, and an operator's token for calling it."""
from __future__ import annotations

import os

from kinerja.auth import issue_token


def cli_settings():
    """The command's settings; without KINERJA_JWT_SECRET, the installation's secret that
    ``kinerja up`` keeps under var/ (so a token it prints is one the running services accept)."""
    from kinerja.config import installation_secret, load_settings, repo_var_dir

    if not os.environ.get("KINERJA_JWT_SECRET") and not os.environ.get("KINERJA_JWT_SECRET_FILE"):
        secret = installation_secret(repo_var_dir(), create=False)
        if secret:
            return load_settings("cli", {"jwt_secret": secret})
    return load_settings("cli")


def service_url(service: str) -> str:
    from kinerja.config import DEFAULT_PORTS

    env = os.environ.get(f"{service.upper()}_URL")
    return env or f"http://127.0.0.1:{DEFAULT_PORTS[service]}"


def operator_headers() -> dict:
    s = cli_settings()
    tok = issue_token(s.jwt_secret, role="operator", agency="*", ttl_s=300, issuer=s.jwt_issuer)
    return {"Authorization": f"Bearer {tok}"}
