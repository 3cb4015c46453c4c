"""Domain and service refusals become 4xx with the reason (the transaction has rolled back)."""
from __future__ import annotations

from contextlib import contextmanager

from werkzeug.exceptions import Conflict, Forbidden, NotFound, UnprocessableEntity

from tugas.domain.errors import IllegalTransition, InvalidInput, NotAllowed
from tugas.service_layer.skp import SkpNotFound
from tugas.service_layer.tasks import ConcurrentUpdate, TaskNotFound, UnknownRhk


@contextmanager
def rules_as_http():
    try:
        yield
    except TaskNotFound as exc:
        raise NotFound(f"task {exc.args[0]} not found") from None
    except SkpNotFound as exc:
        raise NotFound(f"SKP {exc.args[0]} not found") from None
    except ConcurrentUpdate as exc:
        raise Conflict(exc.reason) from None
    except UnknownRhk as exc:
        raise UnprocessableEntity(exc.reason) from None
    except NotAllowed as exc:
        raise Forbidden(exc.reason) from None
    except IllegalTransition as exc:
        raise Conflict(exc.reason) from None
    except InvalidInput as exc:
        raise UnprocessableEntity(exc.reason) from None
