"""``GET``/``PUT /api/v1/notifications/email``: the caller's own e-mail preference. Without one, a
person the roster gives an address gets the daily digest there (``GET`` says so, ``source:
roster``); a preference overrides it (another address, another mode, or off)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import BadRequest, NotFound

from kinerja.auth import require_auth
from kinerja.webapp import current_runtime
from notifikasi.adapters.orm import EmailPreference
from notifikasi.domain.email import DIGEST, MODES
from notifikasi.entrypoints.params import READER_ROLES, own_identity
from notifikasi.entrypoints.runtime import NotifikasiRuntime
from notifikasi.service_layer.email_preferences import NoAddress, roster_address, set_preference

blp = Blueprint("email-preference", __name__, url_prefix="/api/v1/notifications/email",
                description="E-mail preference")


class PreferenceIn(Schema):
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=320),
                         metadata={"description": "left out: the address the roster gives"})
    mode = fields.String(required=True, validate=validate.OneOf(MODES),
                         metadata={"description": "immediate: each notification; digest: once a day; off"})
    digest_hour = fields.Integer(load_default=16, validate=validate.Range(0, 23),
                                 metadata={"description": "local hour of the daily digest"})


class PreferenceOut(Schema):
    email = fields.String(allow_none=True, metadata={"description": "where e-mail goes (the roster's when not set)"})
    mode = fields.String()
    digest_hour = fields.Integer()
    source = fields.String(metadata={"description": "preference: set by the person; roster: the roster's address, "
                                                    "daily digest"})


@blp.route("")
class Preference(MethodView):
    @require_auth(*READER_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, PreferenceOut)
    def get(self):
        principal = own_identity()
        runtime = current_runtime(NotifikasiRuntime)
        with runtime.session() as session:
            pref = session.get(EmailPreference, principal.nip)
            roster = roster_address(session, principal.nip, principal.agency)
            if pref is not None and pref.agency == principal.agency:
                return {"email": pref.email or roster, "mode": pref.mode, "digest_hour": pref.digest_hour,
                        "source": "preference"}
            if roster:
                return {"email": roster, "mode": DIGEST, "digest_hour": runtime.mailer().default_digest_hour,
                        "source": "roster"}
            raise NotFound("no e-mail preference set, and the roster gives no address")

    @require_auth(*READER_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(PreferenceIn)
    @blp.response(200, PreferenceOut)
    def put(self, body):
        principal = own_identity()
        runtime = current_runtime(NotifikasiRuntime)
        try:
            with runtime.session() as session, session.begin():
                pref = set_preference(session, nip=principal.nip, agency=principal.agency, email=body["email"],
                                      mode=body["mode"], digest_hour=body["digest_hour"])
                roster = roster_address(session, principal.nip, principal.agency)
                return {"email": pref.email or roster, "mode": pref.mode, "digest_hour": pref.digest_hour,
                        "source": "preference"}
        except NoAddress as exc:
            raise BadRequest(str(exc)) from None
