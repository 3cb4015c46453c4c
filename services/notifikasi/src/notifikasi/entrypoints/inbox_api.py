"""The caller's own inbox: ``GET /api/v1/notifications`` and ``POST /api/v1/notifications/<id>/read``."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import NotFound

from kinerja.auth import require_auth
from notifikasi.adapters import inbox
from notifikasi.entrypoints.schemas import InboxPage, InboxQuery, NotificationOut
from notifikasi.entrypoints.stream_api import READER_ROLES, own_identity

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
        runtime = current_app.extensions["kinerja_runtime"]
        with runtime.session() as session:
            rows = inbox.inbox_page(session, nip=principal.nip, agency=principal.agency, limit=args["limit"],
                                    before_id=args["before_id"], unread_only=args["unread"])
            unread = inbox.unread_count(session, nip=principal.nip, agency=principal.agency)
            items = [inbox.as_dict(r) for r in rows]
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
        runtime = current_app.extensions["kinerja_runtime"]
        with runtime.session() as session, session.begin():
            row = inbox.mark_read(session, notification_id=notification_id, nip=principal.nip,
                                  agency=principal.agency, now=datetime.now(timezone.utc))
            if row is None:
                raise NotFound("no such notification in your inbox")
            return inbox.as_dict(row)
