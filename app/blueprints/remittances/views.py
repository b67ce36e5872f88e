"""Remittances (835): upload a payer's payment file, see what was posted from it, and work the unmatched
queue; and the upload of 999/277CA acknowledgements for clearinghouses that hand files to people."""
from flask import Blueprint, flash, make_response, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import selectinload

from app import htmx
from app.authz import load, roles
from app.billing import acknowledgements as acks
from app.billing import era
from app.billing.acknowledgements import AcknowledgementRefused
from app.billing.era import RemittanceRefused
from app.blueprints.remittances.forms import (AcknowledgementUploadForm, DismissForm, RemittanceUploadForm,
                                              ResolveForm)
from app.extensions import db
from app.forms import show_problems
from app.models import JobProblem, PostingOutcome, Remittance, RemittanceClaim, Role
from app.rendering import render_page, see_other
from app.x12 import reasons

bp = Blueprint("remittances", __name__)
billing_staff = roles(Role.ADMIN, Role.BILLER)
PAGE_SIZE = 50

#: BPR04 in words.
PAYMENT_METHODS = {"ACH": "EFT (ACH)", "CHK": "Check", "NON": "No payment", "BOP": "EFT or check",
                   "FWT": "Wire transfer"}
#: The background jobs whose failures this page shows, and what each does in words.
JOBS = {"fetch_remittances": "Fetching remittances from the clearinghouse",
        "poll_status": "Reading acknowledgements from the clearinghouse"}


def _unmatched_count() -> int:
    return db.session.scalar(select(func.count()).select_from(RemittanceClaim).where(
        RemittanceClaim.practice_id == current_user.practice_id,
        RemittanceClaim.outcome == PostingOutcome.UNMATCHED))


def _job_problems() -> list[JobProblem]:
    return db.session.scalars(select(JobProblem).where(JobProblem.practice_id == current_user.practice_id,
                                                       JobProblem.cleared_at.is_(None),
                                                       JobProblem.job.in_(list(JOBS)))
                              .order_by(JobProblem.id.desc())).all()


def _index_page(form: RemittanceUploadForm, status: int = 200):
    query = (select(Remittance).where(Remittance.practice_id == current_user.practice_id)
             .options(selectinload(Remittance.payer)))
    before = request.args.get("before", type=int)
    if before:
        query = query.where(Remittance.id < before)  # keyset, newest first: stable while files arrive
    rows = db.session.scalars(query.order_by(Remittance.id.desc()).limit(PAGE_SIZE + 1)).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return render_page("remittances/index.html", status=status, form=form, rows=rows,
                       next_before=rows[-1].id if more else None, unmatched_count=_unmatched_count(),
                       problems=_job_problems(), jobs=JOBS, methods=PAYMENT_METHODS)


def _refused_by_database(error: Exception) -> str:
    """IntegrityError: the same payment was posted by another request (a second upload, the clearinghouse
    job) between era's duplicate check and this flush, and the unique key refused it. DataError: a value the
    reader accepts that the database cannot keep (on PostgreSQL, $21,474,836.48 or more overflows the
    integer cents columns)."""
    if isinstance(error, IntegrityError):
        return "This payment was posted by someone else a moment ago; the file changed nothing."
    return ("The 835 was not posted: it holds a value too large to keep (an amount over $21 million?); "
            "the file changed nothing.")


@bp.route("/remittances", methods=["GET", "POST"])
@billing_staff
def index():
    """List the practice's remittances, newest first, and upload an 835."""
    form = RemittanceUploadForm()
    if form.validate_on_submit():
        try:
            result = era.import_835(current_user.practice, form.text, source="upload", actor=current_user)
        except RemittanceRefused as error:  # AlreadyPosted included; the 422 rolls back anything flushed
            show_problems(form, {"file": str(error)})
        except (IntegrityError, DataError) as error:
            db.session.rollback()  # the flush failed; the session must work again to render the page
            show_problems(form, {"file": _refused_by_database(error)})
        else:
            posted, unmatched = result.claims_posted, result.unmatched
            message = f"Posted {posted} claim payment{'s' if posted != 1 else ''}"
            if unmatched:
                flash(f"{message}; {unmatched} could not be matched and wait in the unmatched queue.", "info")
            else:
                flash(f"{message}.", "success")
            if len(result.remittances) == 1:
                return see_other(url_for("remittances.show", remittance_id=result.remittances[0].id))
            return see_other(url_for("remittances.index"))
    return _index_page(form, status=422 if request.method == "POST" else 200)


@bp.route("/remittances/<int:remittance_id>")
@billing_staff
def show(remittance_id: int):
    """A payment: who paid, how much and how, provider adjustments, and what each claim payment did."""
    remittance = load(Remittance, remittance_id)
    lines = db.session.scalars(select(RemittanceClaim).where(RemittanceClaim.remittance_id == remittance.id)
                               .options(selectinload(RemittanceClaim.claim))
                               .order_by(RemittanceClaim.id)).all()
    posted = sum(line.paid_cents for line in lines if line.outcome in (PostingOutcome.PAID, PostingOutcome.REVERSED))
    return render_page("remittances/show.html", remittance=remittance, lines=lines, methods=PAYMENT_METHODS,
                       clp_status=reasons.describe_clp_status, plb_reason=reasons.describe_provider_adjustment,
                       claims_paid=sum(line.paid_cents for line in lines), posted=posted,
                       provider_adjusted=sum(plb.amount_cents for plb in remittance.adjustments))


# ---------------------------------------------------------------- the unmatched queue


def _resolve_form(line: RemittanceClaim, formdata=None) -> ResolveForm:
    return ResolveForm(formdata=formdata, prefix=f"resolve-{line.id}", practice_id=current_user.practice_id)


def _dismiss_form(line: RemittanceClaim, formdata=None) -> DismissForm:
    return DismissForm(formdata=formdata, prefix=f"dismiss-{line.id}")


def _unmatched_page(status: int = 200, submitted: RemittanceClaim | None = None, **forms):
    """The queue; `submitted` is the row whose form came back with errors (its `resolve_form` or
    `dismiss_form` in `forms`)."""
    lines = db.session.scalars(select(RemittanceClaim).where(
        RemittanceClaim.practice_id == current_user.practice_id,
        RemittanceClaim.outcome == PostingOutcome.UNMATCHED).options(selectinload(RemittanceClaim.remittance))
        .order_by(RemittanceClaim.id)).all()
    if submitted is not None and submitted not in lines:
        lines.append(submitted)  # e.g. dismissed meanwhile: show it with what was said about it
    rows = []
    for line in lines:
        mine = line is submitted
        rows.append((line, forms.get("resolve_form") if mine and "resolve_form" in forms else _resolve_form(line),
                     forms.get("dismiss_form") if mine and "dismiss_form" in forms else _dismiss_form(line)))
    return render_page("remittances/unmatched.html", status=status, rows=rows, clp_status=reasons.describe_clp_status)


def _row(line: RemittanceClaim, status: int = 200, **forms):
    return render_page("remittances/unmatched.html", status=status, block="unmatched_row", line=line,
                       resolve_form=forms.get("resolve_form") or _resolve_form(line),
                       dismiss_form=forms.get("dismiss_form") or _dismiss_form(line),
                       clp_status=reasons.describe_clp_status)


def _refused(line: RemittanceClaim, **forms):
    """A form of one row came back with errors: that row for htmx, the whole queue otherwise (422 both)."""
    if htmx.is_htmx():
        return _row(line, 422, **forms)
    return _unmatched_page(422, submitted=line, **forms)


def _done(line: RemittanceClaim, message: str):
    """htmx swaps the row for what happened to it; a plain form post goes back to the queue."""
    if htmx.is_htmx():
        body, status = _row(line)
        return htmx.toast(make_response(body, status), message)
    flash(message, "success")
    return see_other(url_for("remittances.unmatched"))


@bp.route("/remittances/unmatched")
@billing_staff
def unmatched():
    """The claim payments no claim here matched (or that could not be posted), to resolve or dismiss."""
    return _unmatched_page()


@bp.route("/remittances/claims/<int:remittance_claim_id>/resolve", methods=["POST"])
@billing_staff
def resolve(remittance_claim_id: int):
    """Post an unmatched claim payment onto the claim whose control number the biller typed."""
    line = load(RemittanceClaim, remittance_claim_id)
    form = _resolve_form(line, request.form)
    if form.validate():
        try:
            era.resolve(line, form.claim, current_user)
        except RemittanceRefused as error:
            show_problems(form, {"control_number": str(error)})
        else:
            return _done(line, f"Posted to claim {form.claim.patient_control_number}: {line.message}")
    return _refused(line, resolve_form=form)


@bp.route("/remittances/claims/<int:remittance_claim_id>/dismiss", methods=["POST"])
@billing_staff
def dismiss(remittance_claim_id: int):
    """Set an unmatched claim payment aside with a note saying why."""
    line = load(RemittanceClaim, remittance_claim_id)
    form = _dismiss_form(line, request.form)
    if form.validate():
        try:
            era.dismiss(line, form.note.data, current_user)
        except RemittanceRefused as error:
            show_problems(form, {"note": str(error)})
        else:
            return _done(line, f"Claim payment {line.patient_control_number} set aside.")
    return _refused(line, dismiss_form=form)


# ---------------------------------------------------------------- 999 and 277CA


@bp.route("/claims/acknowledgements", methods=["GET", "POST"])
@billing_staff
def acknowledgements():
    """Upload a 999 or 277CA file and see which claims it moved."""
    form = AcknowledgementUploadForm()
    if form.validate_on_submit():
        try:
            result = acks.import_file(current_user.practice, form.text, source="upload", actor=current_user)
        except AcknowledgementRefused as error:
            show_problems(form, {"file": str(error)})
        else:
            return render_page("remittances/acknowledgements.html", form=AcknowledgementUploadForm(formdata=None),
                               result=result)
    return render_page("remittances/acknowledgements.html", status=422 if request.method == "POST" else 200,
                       form=form, result=None)
