"""Practice settings for admins: identity, members, the audit log, the email outbox and failed background jobs."""
from flask import Blueprint, abort, current_app, flash, make_response, request, send_file, url_for
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import select

from app import accounts, htmx, jobs
from app.audit import record as record_audit
from app.accounts import MemberDetails, RuleViolation
from app.authz import load, roles
from app.billing import worklist
from app.blueprints.settings.forms import (AuditFilterForm, ConfirmForm, DismissFailedJobForm, MemberForm,
                                           NewMemberForm, PracticeForm, ResolveJobProblemForm, RoleForm)
from app.extensions import db
from app.forms import show_problems
from app.models import AuditEvent, JobProblem, Member, OutboundEmail, Role
from app.rendering import render_page, see_other

bp = Blueprint("settings", __name__, url_prefix="/settings")
admin_only = roles(Role.ADMIN)


def _details(form: MemberForm) -> MemberDetails:
    return MemberDetails(email=form.email.data, name=form.name.data, role=Role(form.role.data),
                         npi=form.npi.data or None, taxonomy=form.taxonomy.data or None)


@bp.route("/practice", methods=["GET", "POST"])
@admin_only
def practice():
    """Edit the practice identity that claims, bills and superbills carry."""
    record = current_user.practice
    form = PracticeForm(obj=record)
    if form.validate_on_submit():
        changed = accounts.update_practice_identity(record, form.data)
        changed |= accounts.require_two_factor(record, form.require_two_factor.data)
        flash("Practice details saved." if changed else "Nothing changed.", "success")
        return see_other(url_for("settings.practice"))
    return render_page("settings/practice.html", status=422 if form.errors else 200, form=form,
                       export=jobs.practice_export_state(record.id), export_form=ConfirmForm())


def _export_progress(state: dict):
    """The export's progress fragment; once the job has ended htmx is answered 286, so polling stops."""
    status = htmx.STOP_POLLING if state["state"] != "running" and htmx.is_htmx() else 200
    return render_page("settings/_export.html", status=status, export=state, export_form=ConfirmForm())


@bp.route("/practice/export", methods=["GET", "POST"])
@admin_only
def export():
    """Start an export of the practice's records (a background job), or show how far the latest one is."""
    if request.method == "GET":
        return _export_progress(jobs.practice_export_state(current_user.practice_id))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    job_id = jobs.enqueue_practice_export(current_user.practice_id)
    record_audit("practice.export_requested", current_user.practice, job_id=job_id, actor=current_user)
    if not htmx.is_htmx():
        flash("Exporting the practice's records: the download link appears here when it is ready.", "success")
        return see_other(url_for("settings.practice") + "#export")
    return _export_progress({"state": "running", "done": 0, "total": 0})


@bp.route("/practice/export/download")
@admin_only
def export_download():
    """Download the practice's latest export while its link has not expired."""
    state = jobs.practice_export_state(current_user.practice_id)
    if state["state"] != "ready":
        flash("No export is ready to download (links expire): start a new one.", "info")
        return see_other(url_for("settings.practice") + "#export")
    record_audit("practice.export_downloaded", current_user.practice, file=state["path"].name, actor=current_user)
    return send_file(state["path"], mimetype="application/zip", as_attachment=True,
                     download_name=f"parity-practice-{current_user.practice_id}.zip")


def _members():
    return db.session.scalars(
        select(Member).where(Member.practice_id == current_user.practice_id)
        .order_by(Member.active.desc(), Member.name)).all()


def _row(member: Member, status: int = 200, error: str | None = None):
    return render_page("settings/members.html", status=status, block="member_row", member=member,
                       role_form=RoleForm(role=member.role), confirm=ConfirmForm(), row_error=error)


@bp.route("/members", methods=["GET", "POST"])
@admin_only
def members():
    """List the practice's members and add one."""
    form = NewMemberForm()
    if form.validate_on_submit():
        try:
            member = accounts.add_member(current_user.practice, _details(form), form.password.data)
        except RuleViolation as error:
            show_problems(form, {error.field: str(error)})
        else:
            flash(f"{member.name} can now sign in as {member.role}. A welcome email is on its way.", "success")
            return see_other(url_for("settings.members"))
    return render_page("settings/members.html", status=422 if request.method == "POST" else 200, form=form,
                       members=_members(), role_form=RoleForm(), confirm=ConfirmForm())


@bp.route("/members/<int:member_id>", methods=["GET", "POST"])
@admin_only
def edit_member(member_id: int):
    """Edit a member's name, email, role, NPI and taxonomy."""
    member = load(Member, member_id)
    form = MemberForm(obj=member)
    if form.validate_on_submit():
        try:
            accounts.update_member(member, _details(form))
        except RuleViolation as error:
            show_problems(form, {error.field: str(error)})
        else:
            flash(f"{member.name} saved.", "success")
            return see_other(url_for("settings.members"))
    return render_page("settings/member_edit.html", status=422 if request.method == "POST" else 200,
                       form=form, member=member)


@bp.route("/members/<int:member_id>/role", methods=["POST"])
@admin_only
def change_role(member_id: int):
    """Change a member's role from the members list; answers with the member's row."""
    member = load(Member, member_id)
    form = RoleForm()
    if not form.validate():
        return _row(member, 422, "Choose admin, clinician or biller.")
    try:
        accounts.change_role(member, Role(form.role.data))
    except RuleViolation as error:
        db.session.refresh(member)
        return _row(member, 422, str(error))
    return htmx.toast(make_response(_row(member)), f"{member.name} is now {member.role}.")


@bp.route("/members/<int:member_id>/deactivate", methods=["POST"])
@admin_only
def deactivate_member(member_id: int):
    """Stop a member from signing in; answers with the member's row."""
    member = load(Member, member_id)
    ConfirmForm().validate()
    try:
        accounts.deactivate_member(member)
    except RuleViolation as error:
        db.session.refresh(member)
        return _row(member, 422, str(error))
    return _row_or_redirect(member, f"{member.name} can no longer sign in.")


@bp.route("/members/<int:member_id>/reactivate", methods=["POST"])
@admin_only
def reactivate_member(member_id: int):
    """Let a deactivated member sign in again; answers with the member's row."""
    member = load(Member, member_id)
    accounts.reactivate_member(member)
    return _row_or_redirect(member, f"{member.name} can sign in again.")


@bp.route("/members/<int:member_id>/reset-password", methods=["GET", "POST"])
@admin_only
def reset_member_password(member_id: int):
    """Force a password reset, after a confirmation page: the member's password stops working, their
    sessions end, and they get an email with a link to choose a new one (which the admin never sees)."""
    member = load(Member, member_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            accounts.force_password_reset(member)
        except RuleViolation as error:
            form.form_errors.append(str(error))
        else:
            flash(f"{member.name}'s password is reset; they were signed out and emailed a link to set a new one.",
                  "success")
            return see_other(url_for("settings.members"))
    return render_page("settings/member_reset_password.html", status=422 if request.method == "POST" else 200,
                       form=form, member=member)


def _row_or_redirect(member: Member, message: str):
    """htmx swaps the row in place; a plain form post (no JavaScript) goes back to the list."""
    if htmx.is_htmx():
        return htmx.toast(make_response(_row(member)), message)
    flash(message, "success")
    return see_other(url_for("settings.members"))


@bp.route("/audit")
@admin_only
def audit():
    """Read the audit log, newest first, filtered by action and member."""
    form = AuditFilterForm(request.args)
    practice_members = db.session.scalars(
        select(Member).where(Member.practice_id == current_user.practice_id).order_by(Member.name)).all()
    form.member.choices = [("", "Anyone")] + [(str(m.id), m.name) for m in practice_members]
    query = select(AuditEvent).where(AuditEvent.practice_id == current_user.practice_id)
    if form.action.data:
        query = query.where(AuditEvent.action.startswith(form.action.data.strip()))
    if form.member.data and form.member.data.isdigit():
        query = query.where(AuditEvent.member_id == int(form.member.data))
    before = request.args.get("before", type=int)
    if before:
        query = query.where(AuditEvent.id < before)  # keyset pagination: stable while events keep arriving
    page_size = current_app.config["AUDIT_PAGE_SIZE"]
    events = db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(page_size + 1)).all()
    has_more = len(events) > page_size
    events = events[:page_size]
    next_args = {**request.args.to_dict(), "before": events[-1].id} if has_more else None
    return render_page("settings/audit.html", form=form, events=events, next_args=next_args)


@bp.route("/outbox")
@admin_only
def outbox():
    """Emails Parity has queued or sent, newest first (the demo has no mail server: mail stays here)."""
    emails = db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.practice_id == current_user.practice_id)
        .order_by(OutboundEmail.id.desc()).limit(200)).all()
    return render_page("settings/outbox.html", emails=emails)


@bp.route("/outbox/<int:email_id>")
@admin_only
def outbox_email(email_id: int):
    """Read one email as it was sent."""
    return render_page("settings/outbox_email.html", email=load(OutboundEmail, email_id))


# ---------------------------------------------------------------- failed background jobs


def _jobs_page(status: int = 200):
    try:
        failed, redis_error = jobs.failed_jobs(current_user.practice_id), None
    except RedisError as error:
        failed, redis_error = [], f"{type(error).__name__}: {error}"
    return render_page("settings/jobs.html", status=status, problems=worklist.unresolved_problems(
        current_user.practice_id), failed=failed, redis_error=redis_error, names=jobs.JOB_NAMES)


@bp.route("/jobs", endpoint="jobs")
@admin_only
def failed_jobs():
    """Background jobs that failed: the practice's unresolved job problems, and the jobs RQ gave up on."""
    return _jobs_page()


@bp.route("/jobs/resolve", methods=["POST"])
@admin_only
def resolve_job_problem():
    """Mark a job problem as dealt with: it leaves this page and the home page's count."""
    form = ResolveJobProblemForm()
    if not form.validate():
        flash("Say which problem to mark resolved.", "error")
        return _jobs_page(422)
    problem = db.session.scalar(select(JobProblem).where(JobProblem.id == form.problem.data,
                                                         JobProblem.practice_id == current_user.practice_id))
    if problem is None:
        abort(404)
    done = worklist.resolve_problem(problem, current_user)
    flash(f"{jobs.JOB_NAMES.get(problem.job, problem.job)}: marked resolved." if done else
          "That problem was already resolved.", "success")
    return see_other(url_for("settings.jobs"))


@bp.route("/jobs/dismiss", methods=["POST"])
@admin_only
def dismiss_failed_job():
    """Delete a job RQ gave up on from its failed-job registry (only a job of this practice)."""
    form = DismissFailedJobForm()
    if not form.validate():
        flash("Say which failed job to dismiss.", "error")
        return _jobs_page(422)
    try:
        job = next((job for job in jobs.failed_jobs(current_user.practice_id) if job.id == form.job.data), None)
        if job is None:
            abort(404)
        jobs.dismiss_failed_job(job, current_user)
    except RedisError:
        abort(503, "Redis did not answer; try again in a moment.")
    flash(f"{job.description}: failed job dismissed.", "success")
    return see_other(url_for("settings.jobs"))
