"""``/api/v1/tasks/<task_id>/evidence``: files the assignee uploads as evidence (size-limited,
stored by the service under its var dir)."""
from __future__ import annotations

from flask import request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import UnprocessableEntity

from kinerja.auth import PEOPLE, require_auth
from kinerja.webapp import current_runtime
from tugas.entrypoints.errors import rules_as_http
from tugas.entrypoints.params import actor
from tugas.entrypoints.runtime import evidence_dir, max_evidence_bytes
from tugas.entrypoints.evidence_schemas import EvidenceOut
from tugas.service_layer import evidence as service
from tugas.service_layer.context import as_utc

blp = Blueprint("evidence", __name__, url_prefix="/api/v1/tasks/<task_id>/evidence", description="Task evidence files")

MULTIPART_OVERHEAD = 64 * 1024

UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}}}


def _out(row) -> dict:
    return {"id": row.id, "task_id": row.task_id, "filename": row.filename, "content_type": row.content_type,
            "size": row.size, "sha256": row.sha256, "uploaded_by": row.uploaded_by,
            "uploaded_at": as_utc(row.uploaded_at)}


@blp.route("")
class Evidence(MethodView):
    kinerja_large_body = True  # uploads have their own limit (max_evidence_bytes), set in post()

    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, EvidenceOut(many=True))
    def get(self, task_id):
        """Evidence files of a task the caller may see."""
        with rules_as_http(), current_runtime().session() as session:
            return [_out(r) for r in service.list_evidence(session, actor(), task_id)]

    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}], **UPLOAD_BODY)
    @blp.response(201, EvidenceOut)
    def post(self, task_id):
        """The assignee uploads one file (multipart field ``file``) before submitting; too large → 413."""
        runtime = current_runtime()
        limit = max_evidence_bytes(runtime.settings)
        request.max_content_length = limit + MULTIPART_OVERHEAD  # before the body is parsed
        upload = request.files.get("file")
        if upload is None:
            raise UnprocessableEntity("multipart field 'file' is required")
        stored = None
        try:
            with rules_as_http(), runtime.session() as session, session.begin():
                row, stored = service.store_evidence(
                    session, actor(), task_id, stream=upload.stream, filename=upload.filename or "",
                    content_type=upload.mimetype, evidence_dir=evidence_dir(runtime.settings), max_bytes=limit)
                result = _out(row)
        except BaseException:
            if stored is not None and stored.exists():
                stored.unlink()  # the row did not commit: no orphan file
            raise
        return result


@blp.route("/<evidence_id>")
class EvidenceFile(MethodView):
    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}], responses={"200": {"description": "the file"}})
    def get(self, task_id, evidence_id):
        """Download one evidence file."""
        runtime = current_runtime()
        with rules_as_http(), runtime.session() as session:
            row = service.get_evidence(session, actor(), task_id, evidence_id)
            path = evidence_dir(runtime.settings) / row.path
            # the uploader's type only when it is on the safe list (no HTML or SVG served from our origin)
            return send_file(path, mimetype=service.served_type(row.content_type), as_attachment=True,
                             download_name=row.filename)
