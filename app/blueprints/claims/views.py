"""The claims page billers live on: status tabs with counts, filters, keyset pages, bulk actions, CSV,
and each claim with its lines, diagnoses, scrubber messages, timeline and X12."""
import csv
import io

from flask import Blueprint, abort, flash, make_response, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app import audit
from app.accounts import apply_changes
from app.authz import any_member, load, roles
from app.billing import claims as rules
from app.billing.claims import ClaimError
from app.billing.money import dollars
from app.blueprints.claims.forms import ClaimFilterForm, InsuranceSettingsForm
from app.blueprints.settings.forms import ConfirmForm
from app.extensions import db
from app.models import Bill, Claim, ClaimFile, ClaimStatus, Client, Member, Payer, Role, X12File
from app.rendering import render_page, see_other

bp = Blueprint("claims", __name__)
PAGE_SIZE = 50


def _scope(query):
    """Billers and admins see the practice's claims; clinicians their own."""
    query = query.where(Claim.practice_id == current_user.practice_id)
    if current_user.role == Role.CLINICIAN:
        query = query.where(Claim.clinician_id == current_user.id)
    return query


def _filters(form: ClaimFilterForm, query, *, with_status: bool = True):
    status = ClaimStatus.from_label(form.status.data) if form.status.data else None
    if with_status and status:
        query = query.where(Claim.status == status)
    if (form.payer.data or "").isdigit():
        query = query.where(Claim.payer_id == int(form.payer.data))
    if (form.clinician.data or "").isdigit():
        query = query.where(Claim.clinician_id == int(form.clinician.data))
    if form.client.data:
        words = form.client.data.strip().lower()
        query = query.where(Claim.client_id.in_(select(Client.id).where(
            Client.practice_id == current_user.practice_id,
            or_(func.lower(Client.last_name).startswith(words), func.lower(Client.first_name).startswith(words)))))
    if form.date_from.data:
        query = query.where(Claim.service_date >= form.date_from.data)
    if form.date_to.data:
        query = query.where(Claim.service_date <= form.date_to.data)
    if form.amount_min.cents is not None:
        query = query.where(Claim.total_charge_cents >= form.amount_min.cents)
    if form.amount_max.cents is not None:
        query = query.where(Claim.total_charge_cents <= form.amount_max.cents)
    return query


def _unfiltered(form: ClaimFilterForm) -> bool:
    return not any(field.data for name, field in form._fields.items() if name != "status")


def _form() -> ClaimFilterForm:
    form = ClaimFilterForm(request.args)
    payers = db.session.scalars(select(Payer).where(Payer.practice_id == current_user.practice_id)
                                .order_by(Payer.name)).all()
    form.payer.choices = [("", "Any payer")] + [(str(p.id), p.name) for p in payers]
    clinicians = db.session.scalars(select(Member).where(Member.practice_id == current_user.practice_id,
                                                         Member.role == Role.CLINICIAN).order_by(Member.name)).all()
    form.clinician.choices = [("", "Any clinician")] + [(str(m.id), m.name) for m in clinicians]
    form.validate()
    return form


@bp.route("/claims")
@any_member
def index():
    """Claims by status tab (the tab is the URL), filtered, newest first, a keyset page at a time."""
    form = _form()
    if _unfiltered(form) and current_user.role != Role.CLINICIAN:
        counts = rules.status_counts(current_user.practice_id)  # maintained: no scan of the claims table
    else:
        # count(*), not count(id): the filter indexes then answer from the index alone.
        counts = dict(db.session.execute(_filters(form, _scope(select(Claim.status, func.count())),
                                                  with_status=False).group_by(Claim.status)).all())
    query = _filters(form, _scope(select(Claim))).options(selectinload(Claim.client), selectinload(Claim.payer),
                                                           selectinload(Claim.clinician))
    if request.args.get("format") == "csv":
        return _csv(db.session.scalars(query.order_by(Claim.id.desc())).all())
    before = request.args.get("before", type=int)
    if before:
        query = query.where(Claim.id < before)  # keyset: stable while new claims arrive; no OFFSET
    rows = db.session.scalars(query.order_by(Claim.id.desc()).limit(PAGE_SIZE + 1)).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_args = {**request.args.to_dict(), "before": rows[-1].id} if more else None
    return render_page("claims/index.html", form=form, rows=rows, counts=counts, statuses=list(ClaimStatus),
                       current=ClaimStatus.from_label(form.status.data) if form.status.data else None,
                       next_args=next_args, confirm=ConfirmForm())


def _csv(rows: list[Claim]):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["patient_control_number", "client", "payer", "clinician", "date_of_service", "charge", "status",
                     "insurance_paid", "patient_responsibility", "payer_claim_number"])
    for claim in rows:
        writer.writerow([claim.patient_control_number, claim.client.legal_name, claim.payer.name,
                         claim.clinician.name if claim.clinician else "", claim.service_date.isoformat(),
                         dollars(claim.total_charge_cents), ClaimStatus(claim.status).label, dollars(claim.paid_cents),
                         dollars(claim.patient_responsibility_cents), claim.payer_claim_number or ""])
    response = make_response(buffer.getvalue())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="claims.csv"'
    return response


def _claim(claim_id: int) -> Claim:
    claim = load(Claim, claim_id)
    if current_user.role == Role.CLINICIAN and claim.clinician_id != current_user.id:
        abort(404)
    return claim


@bp.route("/claims/<int:claim_id>")
@any_member
def show(claim_id: int):
    """A claim: lines, diagnoses, scrubber messages with where to fix them, timeline and its X12."""
    claim = _claim(claim_id)
    files = db.session.scalars(select(X12File).join(ClaimFile, ClaimFile.file_id == X12File.id)
                               .where(ClaimFile.claim_id == claim.id).order_by(X12File.id)).all()
    return render_page("claims/show.html", claim=claim, files=files, confirm=ConfirmForm(),
                       status_label=ClaimStatus(claim.status).label)


def _act(claim: Claim, action: str) -> str:
    if action == "recheck":
        return "Back in the queue." if rules.recheck(claim, current_user) else "Still needs review."
    if action == "queue":
        if claim.status != ClaimStatus.NEEDS_REVIEW:
            raise ClaimError("Only a claim in Needs Review can be queued again.")
        return "Back in the queue." if rules.recheck(claim, current_user) else "Still needs review."
    if action == "void":
        if not claim.payer_claim_number:
            raise ClaimError("The payer has not accepted this claim yet, so there is nothing to void: "
                             "correct it and recheck instead.")
        rules.build_claim(db.session.get(Bill, claim.bill_id), current_user, frequency_code="8",
                          original=claim)
        audit.record("claim.void_requested", claim, actor=current_user)
        return "A void (frequency 8) claim is queued."
    raise ClaimError("Unknown action.")


@bp.route("/claims/<int:claim_id>/<any(recheck, queue, void):action>", methods=["POST"])
@roles(Role.ADMIN, Role.BILLER)
def act(claim_id: int, action: str):
    """Recheck a claim after a fix, queue it, or void it with the payer."""
    claim = _claim(claim_id)
    try:
        flash(_act(claim, action), "success")
    except ClaimError as error:
        flash(str(error), "error")
    return see_other(url_for("claims.show", claim_id=claim.id))


@bp.route("/claims/bulk", methods=["POST"])
@roles(Role.ADMIN, Role.BILLER)
def bulk():
    """Apply queue, recheck or void to the ticked claims."""
    action = request.form.get("action", "")
    ids = [int(value) for value in request.form.getlist("claim") if value.isdigit()]
    done, refused = 0, []
    for claim_id in ids:
        claim = _claim(claim_id)
        try:
            _act(claim, action)
            done += 1
        except ClaimError as error:
            refused.append(f"{claim.patient_control_number}: {error}")
    flash(f"{done} claim{'s' if done != 1 else ''} updated." + (" Not changed: " + "; ".join(refused[:5])
                                                                 if refused else ""), "success" if done else "error")
    return see_other(request.form.get("next") or url_for("claims.index"))


@bp.route("/x12/<int:file_id>")
@roles(Role.ADMIN, Role.BILLER)
def x12_file(file_id: int):
    """An X12 file as Parity stored it, one segment a line."""
    record = load(X12File, file_id)
    response = make_response(record.content.replace("~", "~\n"))
    response.headers["Content-Type"] = "text/plain; charset=ascii"
    return response


@bp.route("/settings/insurance", methods=["GET", "POST"])
@roles(Role.ADMIN)
def settings():
    """Clearinghouse, submitter and receiver, automation and who bills on claims."""
    practice = current_user.practice
    form = InsuranceSettingsForm(obj=practice)
    if form.validate_on_submit():
        text = {name: (getattr(form, name).data or "").strip() or None
                for name in ("submitter_name", "submitter_id", "receiver_name", "receiver_id")}
        changed = apply_changes(practice, text | {name: getattr(form, name).data for name in (
            "clearinghouse", "create_claims_automatically", "billing_provider")})
        if changed:
            audit.record("practice.insurance_settings_changed", practice, **changed)
        flash("Insurance settings saved.", "success")
        return see_other(url_for("claims.settings"))
    return render_page("claims/settings.html", status=422 if request.method == "POST" else 200, form=form)
