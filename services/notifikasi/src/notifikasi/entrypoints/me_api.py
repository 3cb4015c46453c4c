"""``GET /api/v1/me``: who the caller's token says they are, as every service reads it (role, agency
and NIP; for an identity provider's token, from the claims mapped in ``KINERJA_OIDC_*_CLAIM``). The
dashboard asks this after an OpenID Connect sign-in instead of reading the provider's claims itself."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from kinerja.auth import current_principal, require_auth

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The caller's identity")


class MeOut(Schema):
    sub = fields.String()
    role = fields.String()
    agency = fields.String()
    nip = fields.String(allow_none=True)


@blp.route("")
class Me(MethodView):
    @require_auth("pegawai", "atasan", "admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, MeOut)
    def get(self):
        p = current_principal()
        return {"sub": p.sub, "role": p.role, "agency": p.agency, "nip": p.nip}
