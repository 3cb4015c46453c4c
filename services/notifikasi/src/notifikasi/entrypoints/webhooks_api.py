"""Webhook registry for agency integrations: admins register endpoints of their own agency
(operators any), see them and their deliveries, and enable one again after fixing it."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from werkzeug.exceptions import Forbidden, NotFound

from kinerja.auth import Principal, current_principal, require_auth
from kinerja.fields import Agency, Text
from kinerja.web import unprocessable
from kinerja.webapp import current_runtime
from notifikasi.adapters.orm import Webhook, WebhookDelivery
from notifikasi.entrypoints.runtime import NotifikasiRuntime
from notifikasi.service_layer.notifications import RULES
from notifikasi.service_layer.clock import aware
from notifikasi.service_layer.webhooks import DestinationNotAllowed, enable_webhook, register_webhook

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks", description="Webhooks for agency integrations")


class WebhookIn(Schema):
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                     validate=validate.Length(max=2000),
                     metadata={"description": "a public http(s) address; loopback, private and link-local ones are "
                                              "refused unless the operator allows them (NOTIFIKASI_WEBHOOK_ALLOW)"})
    secret = Text(200, 16, load_default=None,
                  metadata={"description": "generated when absent; shown only in this answer"})
    event_types = fields.List(fields.String(validate=validate.OneOf(sorted(RULES))), load_default=list,
                              validate=validate.Length(max=len(RULES)),
                              metadata={"description": "empty: every type notifikasi handles"})
    agency = Agency(load_default=None, metadata={"description": "operators only; an admin registers for their own agency"})


class WebhookOut(Schema):
    id = fields.Integer()
    agency = fields.String()
    url = fields.String()
    event_types = fields.List(fields.String())
    active = fields.Boolean()
    consecutive_failures = fields.Integer()
    disabled_at = fields.Method("_disabled_at")
    disabled_reason = fields.String(allow_none=True)

    def _disabled_at(self, hook):
        value = aware(hook.disabled_at)
        return value.isoformat() if value else None


class WebhookCreated(WebhookOut):
    secret = fields.String(attribute="plain_secret", metadata={"description": "shown only in this answer"})


class DeliveryOut(Schema):
    id = fields.Integer()
    event_id = fields.String()
    event_type = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)


def _own_hook(session, hook_id: int, principal: Principal) -> Webhook:
    hook = session.get(Webhook, hook_id)
    if hook is None or (principal.role != "operator" and hook.agency != principal.agency):
        raise NotFound("no such webhook in your agency")
    return hook


@blp.route("")
class Webhooks(MethodView):
    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, WebhookOut(many=True))
    def get(self):
        """The webhooks of the caller's agency (all for an operator); secrets are never shown again."""
        principal = current_principal()
        runtime = current_runtime(NotifikasiRuntime)
        with runtime.session() as session:
            query = select(Webhook).order_by(Webhook.id)
            if principal.role != "operator":
                query = query.where(Webhook.agency == principal.agency)
            return session.execute(query).scalars().all()

    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(WebhookIn)
    @blp.response(201, WebhookCreated)
    def post(self, body):
        """Register an endpoint; deliveries are signed with the secret (see the signature scheme)."""
        principal = current_principal()
        agency = body["agency"] or principal.agency
        if principal.role == "admin" and agency != principal.agency:
            raise Forbidden("an admin registers webhooks of their own agency only")
        runtime = current_runtime(NotifikasiRuntime)
        try:
            with runtime.session() as session, session.begin():
                return register_webhook(session, agency=agency, url=body["url"], secret=body["secret"],
                                        event_types=body["event_types"], created_by_nip=principal.nip,
                                        box=runtime.secret_box, egress=runtime.egress)
        except DestinationNotAllowed as exc:
            raise unprocessable(str(exc), url=[str(exc)]) from None


@blp.route("/<int:hook_id>/deliveries")
class Deliveries(MethodView):
    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, DeliveryOut(many=True))
    def get(self, hook_id: int):
        """The latest 100 deliveries of one webhook, newest first."""
        runtime = current_runtime(NotifikasiRuntime)
        with runtime.session() as session:
            _own_hook(session, hook_id, current_principal())
            return session.execute(
                select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook_id)
                .order_by(WebhookDelivery.id.desc()).limit(100)
            ).scalars().all()


@blp.route("/<int:hook_id>/enable")
class Enable(MethodView):
    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, WebhookOut)
    def post(self, hook_id: int):
        """Enable a disabled webhook again; its pending deliveries resume."""
        runtime = current_runtime(NotifikasiRuntime)
        with runtime.session() as session, session.begin():
            return enable_webhook(session, _own_hook(session, hook_id, current_principal()))
