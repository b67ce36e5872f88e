"""The home page, the header's search and the health check."""
from datetime import timedelta

from flask import Blueprint, jsonify, request
from flask_login import current_user
from sqlalchemy import func, select

from app import health, jobs, rendering
from app.authz import any_member, public
from app.billing import search as records_search, worklist
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
    """Show what needs the member's action now, each a count linked to its filtered list; and, for admins,
    what the practice's setup still lacks."""
    member = current_user
    items = worklist.counts_for(member, jobs.failed_job_count if member.role == Role.ADMIN else None)
    context = {"practice": member.practice, "work_items": items,
               "nothing_to_do": all(item.count == 0 for item in items)}
    if member.role == Role.ADMIN:
        context["identity_gaps"] = _identity_gaps(member.practice)
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


@bp.route("/search")
@any_member
def search():
    """Find clients by name or member ID, bills by number, claims by control or payer claim number: a few of each
    as the header's box is typed in (htmx fills #search-results), every match on this page without script."""
    query = request.args.get("q", "")
    fragment = rendering.block_for_target("main/search.html") is not None
    found = records_search.find(current_user, query, records_search.SHOWN if fragment else records_search.FULL_PAGE)
    return render_page("main/search.html", found=found)
