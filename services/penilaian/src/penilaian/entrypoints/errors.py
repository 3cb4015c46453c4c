"""Domain and service refusals become 4xx with the reason (the transaction has rolled back)."""
from __future__ import annotations

from contextlib import contextmanager

from werkzeug.exceptions import BadRequest, Forbidden, NotFound

from penilaian.domain.errors import NotAllowed, UnknownAsn
from penilaian.domain.policy import BadPolicy


@contextmanager
def rules_as_http():
    try:
        yield
    except NotAllowed as exc:
        raise Forbidden(exc.reason) from None
    except UnknownAsn as exc:
        raise NotFound(exc.reason) from None
    except BadPolicy as exc:
        raise BadRequest(str(exc)) from None
