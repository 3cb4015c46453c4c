"""The caller's own inbox: ``GET /api/v1/notifications`` and ``POST /api/v1/notifications/<id>/read``."""
from __future__ import annotations

from datetime import datetime, timezone

from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import Forbidden, NotFound

from kinerja.auth import require_auth
from kinerja.webapp import current_runtime
from notifikasi.adapters import inbox
from notifikasi.entrypoints.schemas import (EmailMessagesPage, EmailMessagesQuery, InboxPage, InboxQuery,
                                            MarkAllReadIn, MarkAllReadOut, NotificationOut)
from notifikasi.entrypoints.params import READER_ROLES, own_identity
from notifikasi.entrypoints.runtime import NotifikasiRuntime
from notifikasi.service_layer.email_status import messages_page, status_of_notifications

blp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications", description="Inbox")


@blp.route("")
class Inbox(MethodView):
    @require_auth(*READER_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(InboxQuery, location="query")
    @blp.response(200, InboxPage)
    def get(self, args):
        """The caller's notifications, newest first; page with ``before_id``."""
        principal = own_identity()
        runtime = current_runtime(NotifikasiRuntime)
        mine = inbox.recipients_of(principal.nip, principal.role)
        with runtime.session() as session:
            rows = inbox.inbox_page(session, nip=mine, agency=principal.agency, limit=args["limit"],
                                    before_id=args["before_id"], unread_only=args["unread"])
            unread = inbox.unread_count(session, nip=mine, agency=principal.agency)
            status = status_of_notifications(session, [r.id for r in rows])
            items = [{**inbox.as_dict(r), "email": status.get(r.id)} for r in rows]
        next_before = items[-1]["id"] if len(items) == args["limit"] else None
        return {"items": items, "unread": unread, "next_before_id": next_before}


@blp.route("/<int:notification_id>/read")
class MarkRead(MethodView):
    @require_auth(*READER_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, NotificationOut)
    def post(self, notification_id: int):
        """Mark one of the caller's notifications read (again is harmless). 404 if it is not theirs."""
        principal = own_identity()
        runtime = current_runtime(NotifikasiRuntime)
        with runtime.session() as session, session.begin():
            row = inbox.mark_read(session, notification_id=notification_id,
                                  nip=inbox.recipients_of(principal.nip, principal.role),
                                  agency=principal.agency, now=datetime.now(timezone.utc))
            if row is None:
                raise NotFound("no such notification in your inbox")
            return inbox.as_dict(row)


@blp.route("/read-all")
class MarkAllRead(MethodView):
    @require_auth(*READER_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(MarkAllReadIn)
    @blp.response(200, MarkAllReadOut)
    def post(self, body):
        """Mark all of the caller's notifications read (up to ``up_to_id``, the newest they have seen)."""
        principal = own_identity()
        mine = inbox.recipients_of(principal.nip, principal.role)
        runtime = current_runtime(NotifikasiRuntime)
        with runtime.session() as session, session.begin():
            marked = inbox.mark_all_read(session, nip=mine, agency=principal.agency, up_to_id=body["up_to_id"],
                                         now=datetime.now(timezone.utc))
            return {"marked": marked, "unread": inbox.unread_count(session, nip=mine, agency=principal.agency)}


@blp.route("/email/messages")
class EmailMessages(MethodView):
    @require_auth(*READER_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(EmailMessagesQuery, location="query")
    @blp.response(200, EmailMessagesPage)
    def get(self, args):
        """E-mails and their delivery status, newest first: the caller's own; an admin's agency's
        (``nip`` for one person's, ``status=failed`` for those given up)."""
        principal = own_identity()
        nip = args["nip"]
        if principal.role != "admin":
            if nip not in (None, principal.nip):
                raise Forbidden("you read the delivery status of your own e-mail only")
            nip = principal.nip
        runtime = current_runtime(NotifikasiRuntime)
        with runtime.session() as session:
            items = messages_page(session, agency=principal.agency, nip=nip, status=args["status"],
                                       limit=args["limit"], before_id=args["before_id"])
        return {"items": items, "next_before_id": items[-1]["id"] if len(items) == args["limit"] else None}
