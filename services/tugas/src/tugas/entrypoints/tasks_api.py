"""``/api/v1/tasks``: assign, list, read, and move tasks through their lifecycle."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask.views import MethodView
from flask_smorest import Blueprint

from kinerja.auth import PEOPLE, SUPERVISING_ROLES, current_principal, require_auth
from kinerja.webapp import current_runtime
from tugas.adapters.orm import TaskRow
from tugas.entrypoints.errors import rules_as_http
from tugas.entrypoints.params import actor
from tugas.entrypoints.task_schemas import (AcceptIn, ApproveIn, CancelIn, RejectIn, RescheduleIn, ReturnIn, StartIn,
                                            SubmitIn, TaskIn, TaskOut, TaskPage, TaskQuery)
from tugas.service_layer import tasks as service
from tugas.service_layer.context import as_utc
from tugas.service_layer.task_visibility import list_tasks, read_task

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="Tasks (tugas) and their approval")

TIME_FIELDS = ("submitted_at", "approved_at", "overdue_at", "created_at", "updated_at")



def _out(row: TaskRow) -> dict:
    data = {name: getattr(row, name) for name in TaskOut().fields}
    for name in TIME_FIELDS:
        data[name] = as_utc(data[name])
    return data


@blp.route("")
class Tasks(MethodView):
    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(TaskQuery, location="query")
    @blp.response(200, TaskPage)
    def get(self, args):
        """Tasks the caller may see (own; an atasan's team; an admin's agency), filtered and paged."""
        limit = args["limit"]
        offset = (args["page"] - 1) * limit if args.get("page") else args["offset"]
        with current_runtime().session() as session:
            rows, total = list_tasks(session, actor(), assignee=args.get("assignee"),
                                             status=args.get("status"), period=args.get("period"),
                                             rhk_id=args.get("rhk"), limit=limit, offset=offset)
            return {"items": [_out(r) for r in rows], "total": total, "limit": limit, "offset": offset}

    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(TaskIn)
    @blp.response(201, TaskOut)
    def post(self, body):
        """A supervisor assigns a task to a direct subordinate (due today or later); an ASN naming
        themselves (or no one: the token's NIP) proposes one, which their supervisor accepts or rejects."""
        runtime = current_runtime()
        now = datetime.now(timezone.utc)
        today = now.astimezone(ZoneInfo(runtime.settings.timezone)).date()
        with rules_as_http(), runtime.session() as session, session.begin():
            row = service.assign_task(
                session, runtime.outbox, actor(), assignee_nip=body["nip"] or current_principal().nip or "",
                title=body["title"],
                due_date=body["due_date"], target_quantity=body["target_quantity"], today=today,
                rhk_id=body.get("rhk_id"), category=body.get("category"), description=body.get("description"),
                now=now)
            return _out(row)


@blp.route("/<task_id>")
class TaskItem(MethodView):
    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, TaskOut)
    def get(self, task_id):
        """One task, if the caller may see it."""
        caller = actor()
        with rules_as_http(), current_runtime().session() as session:
            return _out(read_task(session, caller, task_id))

    @require_auth(*SUPERVISING_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(RescheduleIn)
    @blp.response(200, TaskOut)
    def patch(self, body, task_id):
        """The assignee's supervisor reschedules a task that is not approved or cancelled: due date,
        title, target quantity. Unlike on assignment, a due date in the past is allowed (recording a
        deadline that has already passed); the task's state is published again as
        ``tugas.task.assigned.v1`` with the new terms."""
        return _change(task_id, "reschedule", body)


def _today(runtime):
    return datetime.now(timezone.utc).astimezone(ZoneInfo(runtime.settings.timezone)).date()


def _change(task_id: str, action: str, body: dict) -> dict:
    runtime = current_runtime()
    args = dict(body)
    version = args.pop("version", None)
    if action == "accept":
        args["today"] = _today(runtime)
    with rules_as_http(), runtime.session() as session, session.begin():
        row = service.change_task(session, runtime.outbox, actor(), task_id, action,
                                  expected_version=version, **args)
        return _out(row)


@blp.route("/<task_id>/start")
class StartTask(MethodView):
    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(StartIn)
    @blp.response(200, TaskOut)
    def post(self, body, task_id):
        """The assignee starts working on an assigned task."""
        return _change(task_id, "start", body)


@blp.route("/<task_id>/submit")
class SubmitTask(MethodView):
    @require_auth(*PEOPLE)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(SubmitIn)
    @blp.response(200, TaskOut)
    def post(self, body, task_id):
        """The assignee submits the result (a note and links) for approval."""
        return _change(task_id, "submit", body)


@blp.route("/<task_id>/approve")
class ApproveTask(MethodView):
    @require_auth(*SUPERVISING_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(ApproveIn)
    @blp.response(200, TaskOut)
    def post(self, body, task_id):
        """The assignee's supervisor approves: realised quantity and quality (0–100)."""
        return _change(task_id, "approve", body)


@blp.route("/<task_id>/return")
class ReturnTask(MethodView):
    @require_auth(*SUPERVISING_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(ReturnIn)
    @blp.response(200, TaskOut)
    def post(self, body, task_id):
        """The assignee's supervisor returns the submission for revision, with feedback."""
        return _change(task_id, "return", body)


@blp.route("/<task_id>/cancel")
class CancelTask(MethodView):
    @require_auth(*SUPERVISING_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(CancelIn)
    @blp.response(200, TaskOut)
    def post(self, body, task_id):
        """The assignee's supervisor cancels a task that is not approved."""
        return _change(task_id, "cancel", body)


@blp.route("/<task_id>/accept")
class AcceptTask(MethodView):
    @require_auth(*SUPERVISING_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(AcceptIn)
    @blp.response(200, TaskOut)
    def post(self, body, task_id):
        """The proposer's supervisor accepts a proposed task (it becomes assigned)."""
        return _change(task_id, "accept", body)


@blp.route("/<task_id>/reject")
class RejectTask(MethodView):
    @require_auth(*SUPERVISING_ROLES)
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(RejectIn)
    @blp.response(200, TaskOut)
    def post(self, body, task_id):
        """The proposer's supervisor rejects a proposed task, with a reason (it becomes cancelled)."""
        return _change(task_id, "reject", body)
