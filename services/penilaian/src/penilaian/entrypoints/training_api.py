"""Training records (JP), progress towards 20 JP a year, and suggested training."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask.views import MethodView
from flask_smorest import Blueprint

from kinerja.auth import current_principal, require_auth
from kinerja.webapp import current_runtime
from penilaian.entrypoints.errors import rules_as_http
from penilaian.entrypoints.params import check_nip
from penilaian.entrypoints.schemas import YearArgs
from penilaian.entrypoints.training_schemas import TrainingIn, TrainingOut
from penilaian.service_layer.access import READERS, authorize_read, authorize_training_record
from penilaian.service_layer.training import record_training, training_view

blp = Blueprint("training", __name__, url_prefix="/api/v1/training", description="Competency development")


def _this_year() -> int:
    return datetime.now(ZoneInfo(current_runtime().settings.timezone)).year


@blp.route("/<nip>")
class Training(MethodView):
    @require_auth(*READERS)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(YearArgs, location="query", error_status_code=400)
    @blp.response(200, TrainingOut)
    def get(self, args, nip):
        """A year's training, the JP still missing to 20, and what to train next."""
        check_nip(nip)
        runtime = current_runtime()
        with rules_as_http(), runtime.session() as session:
            authorize_read(session, current_principal(), nip)
            return training_view(session, nip, args.get("year") or _this_year())

    @require_auth(*READERS)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(TrainingIn, error_status_code=400)
    @blp.response(201, TrainingOut)
    def post(self, body, nip):
        """Record a training: the ASN themselves, an admin of their agency, or an operator."""
        check_nip(nip)
        principal = current_principal()
        runtime = current_runtime()
        with rules_as_http(), runtime.session() as session, session.begin():
            authorize_training_record(session, principal, nip)
            record_training(session, runtime.outbox, nip=nip, title=body["title"], jp=body["jp"], day=body["date"],
                            provider=body["provider"], recorded_by=principal.sub[:64],
                            zone=ZoneInfo(runtime.settings.timezone), agency=principal.agency)
        with runtime.session() as session:
            return training_view(session, nip, body["date"].year)
