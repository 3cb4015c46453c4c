"""``GET``/``PUT /api/v1/notifications/email``: the caller's own e-mail preference."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import NotFound

from kinerja.auth import require_auth
from notifikasi.adapters.orm import EmailPreference
from notifikasi.domain.email import MODES
from notifikasi.entrypoints.stream_api import READER_ROLES, own_identity
from notifikasi.service_layer.email import set_preference

blp = Blueprint("email-preference", __name__, url_prefix="/api/v1/notifications/email",
                description="E-mail preference")


class PreferenceIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=320))
    mode = fields.String(required=True, validate=validate.OneOf(MODES),
                         metadata={"description": "immediate: each notification; digest: once a day; off"})
    digest_hour = fields.Integer(load_default=16, validate=validate.Range(0, 23),
                                 metadata={"description": "local hour of the daily digest"})


class PreferenceOut(Schema):
    email = fields.String()
    mode = fields.String()
    digest_hour = fields.Integer()


@blp.route("")
class Preference(MethodView):
    @require_auth(*READER_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, PreferenceOut)
    def get(self):
        principal = own_identity()
        runtime = current_app.extensions["kinerja_runtime"]
        with runtime.session() as session:
            pref = session.get(EmailPreference, principal.nip)
            if pref is None or pref.agency != principal.agency:
                raise NotFound("no e-mail preference set")
            return pref

    @require_auth(*READER_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(PreferenceIn)
    @blp.response(200, PreferenceOut)
    def put(self, body):
        principal = own_identity()
        runtime = current_app.extensions["kinerja_runtime"]
        with runtime.session() as session, session.begin():
            return set_preference(session, nip=principal.nip, agency=principal.agency, email=body["email"],
                                  mode=body["mode"], digest_hour=body["digest_hour"])
