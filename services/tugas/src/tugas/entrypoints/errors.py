"""Domain and service refusals become 4xx with the reason (the transaction has rolled back)."""
from __future__ import annotations

from contextlib import contextmanager

from werkzeug.exceptions import Conflict, Forbidden, NotFound, RequestEntityTooLarge, UnprocessableEntity

from tugas.domain.errors import IllegalTransition, InvalidInput, NotAllowed
from tugas.service_layer.evidence import EvidenceNotFound, FileTooLarge
from tugas.service_layer.feedback import SubjectNotFound
from tugas.service_layer.innovation import InnovationNotFound
from tugas.service_layer.skp import SkpNotFound
from tugas.service_layer.tasks import ConcurrentUpdate, TaskNotFound, UnknownRhk


@contextmanager
def rules_as_http():
    try:
        yield
    except SubjectNotFound as exc:
        raise NotFound(f"task or RHK {exc.args[0]} not found") from None
    except InnovationNotFound as exc:
        raise NotFound(f"innovation {exc.args[0]} not found") from None
    except EvidenceNotFound as exc:
        raise NotFound(f"evidence {exc.args[0]} not found") from None
    except FileTooLarge as exc:
        raise RequestEntityTooLarge(exc.reason) from None
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
