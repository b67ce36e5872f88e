"""The home page and the health check."""
from datetime import timedelta

from flask import Blueprint, jsonify
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import func, select

from app import access, health, jobs
from app.authz import any_member, public
from app.billing import eligibility, estimates, worklist
from app.blueprints.claims.views import sending_context
from app.blueprints.settings.forms import ConfirmForm
from app.extensions import db
from app.models import AuditEvent, Member, Role
from app.models.types import utcnow
from app.rendering import render_page

bp = Blueprint("main", __name__)


def _identity_gaps(practice) -> list[str]:
    """What the practice still has to fill in before claims and superbills can carry its identity."""
    required = {"tax_id": "tax ID (EIN)", "group_npi": "group NPI", "taxonomy": "taxonomy code",
                "address_line1": "address", "zip_code": "ZIP+4", "phone": "phone"}
    return [label for field, label in required.items() if not getattr(practice, field)]


@bp.route("/")
@any_member
def home():
    """Show what needs the member's action now, each a count linked to its filtered list; claims ready to send
    with a button that sends them; and, for admins, what the practice's setup still lacks."""
    member = current_user
    items = worklist.counts_for(member, jobs.failed_job_count if member.role == Role.ADMIN else None)
    coverage = eligibility.needing_attention(member.practice_id, access.client_filter(member))
    context = {"practice": member.practice, "work_items": items, "coverage_problems": coverage,
               "eligibility_summary": eligibility.summary,
               "nothing_to_do": all(item.count == 0 for item in items) and not coverage,
               "over_estimate": estimates.over_estimate(member.practice_id, visible=access.client_filter(member))}
    try:
        sending = sending_context()  # "Send queued claims now" and its progress, for admins and billers
    except RedisError:  # the home page still renders without Redis (the work list says it could not check)
        sending = {"sending": None}
    context.update(confirm=ConfirmForm(), **sending)
    if member.role == Role.ADMIN:
        context["identity_gaps"] = _identity_gaps(member.practice)
        context["backup_problem"] = jobs.backup_problem()
        context["members_by_role"] = dict(db.session.execute(
            select(Member.role, func.count(Member.id))
            .where(Member.practice_id == member.practice_id, Member.active.is_(True))
            .group_by(Member.role)).all())
        context["clinicians_missing_npi"] = db.session.scalars(
            select(Member.name).where(Member.practice_id == member.practice_id, Member.active.is_(True),
                                      Member.role == Role.CLINICIAN, Member.npi.is_(None))).all()
        context["recent_failed_sign_ins"] = db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.practice_id == member.practice_id,
                                                   AuditEvent.action == "auth.sign_in_failed",
                                                   AuditEvent.created_at >= utcnow() - timedelta(days=7)))
    return render_page("main/home.html", **context)


@bp.route("/healthz")
@public
def healthz():
    """Report database, Redis and worker health as JSON (no sign-in; used by monitors and tests)."""
    body, healthy = health.report()
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
