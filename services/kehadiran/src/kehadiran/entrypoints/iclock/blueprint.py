"""The device protocol's blueprint: plain text replies with the GMT ``Date`` a device sets its
clock from, errors as ``ERROR: <reason>``, the serial number every request names."""
from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from email.utils import formatdate

from flask import Blueprint, Response, request
from werkzeug.exceptions import BadRequest, HTTPException

from kehadiran.adapters import adms

log = logging.getLogger("kehadiran.entrypoints.iclock")

bp = Blueprint("iclock", __name__, url_prefix="/iclock")

SN_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def text_reply(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


@bp.after_request
def _date_header(response: Response) -> Response:
    # gunicorn always writes its own (correct) Date header: do not send a second one
    if not request.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
        response.headers["Date"] = formatdate(usegmt=True)
    return response


@bp.errorhandler(HTTPException)
def _error(exc: HTTPException) -> Response:
    return text_reply(f"ERROR: {exc.description}\n", exc.code or 500)


def serial() -> str:
    sn = (request.args.get("SN") or request.args.get("sn") or "").strip()
    if not SN_RE.match(sn):
        raise BadRequest("SN=<serial number> is required")
    return sn


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def log_rejected(sn: str, table: str, errors: list[adms.BadLine]) -> None:
    for err in errors[:50]:
        log.warning("adms: line rejected", extra={"sn": sn, "table": table, **err.as_dict()})
