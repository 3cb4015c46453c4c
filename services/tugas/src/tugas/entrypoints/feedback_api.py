"""``/api/v1/feedback``: continuous feedback threads on a task or an RHK."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from kinerja.auth import PEOPLE, require_auth
from kinerja.webapp import current_runtime
from tugas.entrypoints.errors import rules_as_http
from tugas.entrypoints.params import actor
from tugas.entrypoints.feedback_schemas import FeedbackIn, FeedbackMessageOut, FeedbackQuery, FeedbackThreadOut
from tugas.service_layer import feedback as service
from tugas.service_layer.context import as_utc

blp = Blueprint("feedback", __name__, url_prefix="/api/v1/feedback",
                description="Continuous feedback (umpan balik berkelanjutan)")


def _message(m) -> dict:
    return {"id": m.id, "thread_id": m.thread_id, "author_nip": m.author_nip, "recipient_nip": m.recipient_nip,
            "text": m.text, "created_at": as_utc(m.created_at)}


@blp.route("")
class Feedback(MethodView):
    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(FeedbackQuery, location="query")
    @blp.response(200, FeedbackThreadOut)
    def get(self, args):
        """The thread on a task or an RHK (the ASN, their supervisor, the agency admin)."""
        with rules_as_http(), current_runtime().session() as session:
            thread, messages = service.read_thread(session, actor(), task_id=args.get("task_id"),
                                                   rhk_id=args.get("rhk_id"))
            return {"thread_id": thread.id if thread else None, "nip": thread.nip if thread else None,
                    "task_id": args.get("task_id"), "rhk_id": args.get("rhk_id"),
                    "messages": [_message(m) for m in messages]}

    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(FeedbackIn)
    @blp.response(201, FeedbackMessageOut)
    def post(self, body):
        """Post a message: the ASN to their supervisor, or the supervisor to the ASN."""
        runtime = current_runtime()
        with rules_as_http(), runtime.session() as session, session.begin():
            message = service.post_message(session, runtime.outbox, actor(), text=body["text"],
                                           task_id=body.get("task_id"), rhk_id=body.get("rhk_id"))
            return _message(message)
