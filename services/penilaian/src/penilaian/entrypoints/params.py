"""Request parameters every penilaian blueprint parses the same way: a path NIP and the
``period`` query argument. Bad values are a 400 with the reason."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from werkzeug.exceptions import BadRequest

from kinerja.events.common import NIP_PATTERN
from kinerja.webapp import current_runtime
from penilaian.domain.periods import BadPeriod, Period, parse_period


def period_arg(args: dict) -> Period:
    """``period`` from the query, else the current month in the agency's time zone."""
    text = args.get("period")
    if not text:
        tz = ZoneInfo(current_runtime().settings.timezone)
        text = datetime.now(tz).strftime("%Y-%m")
    try:
        return parse_period(text)
    except BadPeriod as exc:
        raise BadRequest(str(exc)) from None


def check_nip(nip: str) -> None:
    if not re.match(NIP_PATTERN, nip):
        raise BadRequest("NIP must be 18 digits")
