"""An agency's own settings: its scoring policy (versioned, from a month on) and the
organisation's predikat per period, which bounds the spread of its ASN's predikat."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask.views import MethodView
from flask_smorest import Blueprint

from kinerja.auth import current_principal, require_auth
from kinerja.webapp import current_runtime
from penilaian.entrypoints.errors import rules_as_http
from penilaian.entrypoints.params import period_arg
from penilaian.entrypoints.policy_schemas import OrganisationRatingIn, OrganisationRatingOut, PolicyIn, PolicyOut
from penilaian.entrypoints.schemas import AgencyArgs, PeriodArgs
from penilaian.service_layer.access import agency_in_scope
from penilaian.service_layer.commands import rate_organisation, set_policy
from penilaian.service_layer.views import organisation_rating, policy_view

blp = Blueprint("agency", __name__, url_prefix="/api/v1", description="Agency policy and organisation predikat")


@blp.route("/policy")
class Policy(MethodView):
    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(AgencyArgs, location="query", error_status_code=400)
    @blp.response(200, PolicyOut)
    def get(self, args):
        """The agency's policy versions (and the DESIGN defaults in force before the first)."""
        with rules_as_http():
            agency = agency_in_scope(current_principal(), args.get("agency"))
        runtime = current_runtime()
        with runtime.session() as session:
            return policy_view(session, agency)

    @require_auth("admin")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(PolicyIn, error_status_code=400)
    @blp.response(200, PolicyOut)
    def put(self, body):
        """A new version of the agency's policy, in force from the first day of ``effective_from``;
        numbers left out keep the DESIGN default. The agency's periods from then on are recomputed."""
        principal = current_principal()
        year, month = map(int, body.pop("effective_from").split("-"))
        runtime = current_runtime()
        with rules_as_http(), runtime.session() as session, session.begin():
            set_policy(session, runtime.outbox, agency=principal.agency, effective_from=date(year, month, 1),
                       values=body, set_by=principal.sub[:64], zone=ZoneInfo(runtime.settings.timezone))
        with runtime.session() as session:
            return policy_view(session, principal.agency)


def _org_view(row, agency, period):
    return {"agency": agency, "period": period.name, "predikat": row.predikat if row else None,
            "set_by": row.set_by if row else None, "set_at": row.set_at if row else None}


@blp.route("/organisation-rating")
class OrganisationRating(MethodView):
    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(PeriodArgs, location="query", error_status_code=400)
    @blp.response(200, OrganisationRatingOut)
    def get(self, args):
        """The organisation's predikat for the period (else the one set for its year)."""
        period = period_arg(args)
        agency = current_principal().agency
        runtime = current_runtime()
        with runtime.session() as session:
            return _org_view(organisation_rating(session, agency, period), agency, period)

    @require_auth("admin")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(PeriodArgs, location="query", error_status_code=400)
    @blp.arguments(OrganisationRatingIn, error_status_code=400)
    @blp.response(200, OrganisationRatingOut)
    def put(self, args, body):
        """Set the organisation's own predikat (Istimewa, Baik, Butuh Perbaikan, Kurang, Sangat Kurang)."""
        period = period_arg(args)
        principal = current_principal()
        runtime = current_runtime()
        with runtime.session() as session, session.begin():
            row = rate_organisation(session, runtime.outbox, agency=principal.agency, period=period,
                                    predikat=body["predikat"], set_by=principal.sub[:64],
                                    zone=ZoneInfo(runtime.settings.timezone))
            return _org_view(row, principal.agency, period)
