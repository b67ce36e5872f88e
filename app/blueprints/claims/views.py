"""The claims page billers live on: status tabs with counts, filters, keyset pages, bulk actions, CSV,
sending (the clearinghouse job's progress, or 837 batches to download), the denials queue, and each claim
with its lines, diagnoses, scrubber messages, remittances, timeline and X12."""
import time
from collections import Counter

from flask import Blueprint, abort, current_app, flash, make_response, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import defer, joinedload, selectinload

from app import access, audit, csv_export, htmx, jobs, secrets_at_rest
from app.authz import any_member, load, roles
from app.billing import claims as rules
from app.billing import bills, cms1500, denials, era, submissions, worklist
from app.billing.claims import ClaimError
from app.billing.denials import DenialRefused
from app.billing.money import dollars
from app.blueprints.claims.forms import (ClaimFilterForm, DenialNoteForm, InsuranceSettingsForm, WriteOffForm,
                                        pointers_form)
from app.blueprints.settings.forms import ConfirmForm
from app.clearinghouse import NAMES
from app.config import encryption_key
from app.extensions import db
from app.forms import show_problems
from app.models import (Claim, ClaimEvent, ClaimFile, ClaimStatus, Client, JobProblem, Member, Payer, Role, Submission,
                        X12File)
from app.rendering import block_for_target, csv_response, pdf_response, render_page, see_other
from app.x12 import reasons

bp = Blueprint("claims", __name__)
PAGE_SIZE = 50
#: The most claims one CMS-1500 PDF prints (a page of the claims list).
PRINT_LIMIT = PAGE_SIZE


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
    visible = access.claim_filter(current_user)
    if _unfiltered(form) and access.sees_whole_practice(current_user):
        counts = rules.status_counts(current_user.practice_id)  # maintained: no scan of the claims table
    else:
        # count(*), not count(id): the filter indexes then answer from the index alone.
        counts = dict(db.session.execute(_filters(form, select(Claim.status, func.count()).where(visible),
                                                  with_status=False).group_by(Claim.status)).all())
    # Many-to-one each: joined into the page's one query rather than three more.
    query = _filters(form, select(Claim).where(visible)).options(
        joinedload(Claim.client), joinedload(Claim.payer), joinedload(Claim.clinician))
    if request.args.get("format") == "csv":
        return _csv(db.session.scalars(query.order_by(Claim.id.desc())).all())
    before = request.args.get("before", type=int)
    if before:
        query = query.where(Claim.id < before)  # keyset: stable while new claims arrive; no OFFSET
    # A row shows none of what the claim sends (its snapshot, a few KB of JSON) nor its scrubber's messages.
    rows = db.session.scalars(query.options(defer(Claim.snapshot), defer(Claim.problems))
                              .order_by(Claim.id.desc()).limit(PAGE_SIZE + 1)).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_args = {**request.args.to_dict(), "before": rows[-1].id} if more else None
    return render_page("claims/index.html", form=form, rows=rows, counts=counts, statuses=list(ClaimStatus),
                       current=ClaimStatus.from_label(form.status.data) if form.status.data else None,
                       next_args=next_args, confirm=ConfirmForm(),
                       **({"sending": None} if block_for_target("claims/index.html") else sending_context()))


def _csv(rows: list[Claim]):
    lineage = rules.lineage(rows)
    return csv_response(csv_export.csv_text(
        ["patient_control_number", "client", "payer", "clinician", "date_of_service", "charge", "status",
         "insurance_paid", "patient_responsibility", "payer_claim_number", *rules.LINEAGE_COLUMNS],
        [[claim.patient_control_number, claim.client.legal_name, claim.payer.name,
          claim.clinician.name if claim.clinician else "", claim.service_date.isoformat(),
          csv_export.amount(claim.total_charge_cents), ClaimStatus(claim.status).label,
          csv_export.amount(claim.paid_cents), csv_export.amount(claim.patient_responsibility_cents),
          claim.payer_claim_number, *lineage[claim.id]] for claim in rows]), "claims.csv")


def _claim(claim_id: int) -> Claim:
    return access.require_claim(current_user, load(Claim, claim_id))


@bp.route("/claims/<int:claim_id>")
@any_member
def show(claim_id: int):
    """A claim: lines, diagnoses, scrubber messages with where to fix them, remittances, timeline and its X12."""
    return _show(_claim(claim_id))


def _show(claim: Claim, form=None, status: int = 200):
    files = db.session.scalars(select(X12File).join(ClaimFile, ClaimFile.file_id == X12File.id)
                               .where(ClaimFile.claim_id == claim.id).order_by(X12File.id)).all()
    related = db.session.scalars(select(Claim).where(Claim.original_claim_id == claim.id).order_by(Claim.id)).all()
    # The payers asked about this bill in order (primary, then secondary, then tertiary), with what each paid.
    payers = db.session.scalars(select(Claim).where(Claim.bill_id == claim.bill_id, Claim.frequency_code != "8")
                                .order_by(Claim.payer_order, Claim.id)).all()
    editable = claim.status in (ClaimStatus.QUEUED, ClaimStatus.NEEDS_REVIEW) and current_user.role != Role.CLINICIAN
    return render_page("claims/show.html", status=status, claim=claim, files=files, confirm=ConfirmForm(),
                       status_label=ClaimStatus(claim.status).label, postings=era.postings(claim),
                       original=db.session.get(Claim, claim.original_claim_id) if claim.original_claim_id else None,
                       follows=db.session.get(Claim, claim.prior_payer_claim_id) if claim.prior_payer_claim_id else None,
                       payers=payers, payer_order=rules.PAYER_ORDERS,
                       pointers=(form or pointers_form(claim)) if editable else None,
                       related=related, can_replace=denials.can_replace_or_void(claim),
                       worked=denials.ACTIONS.get(claim.denial_action or ""), clp_status=reasons.describe_clp_status)


def _cms1500(claims: list[Claim], filename: str):
    """The claims on the CMS-1500: the full form, or with ?layout=data only the data, for red pre-printed forms."""
    layout = "data" if request.values.get("layout") == "data" else "full"
    practice = current_user.practice
    try:
        data = cms1500.pdf(claims, practice, layout=layout, printed_on=worklist.practice_today(practice))
    except cms1500.NotPrintable as error:
        abort(409, str(error))
    audit.record("claims.printed_cms1500", practice, claims=[claim.id for claim in claims],
                 layout=layout, actor=current_user)
    return pdf_response(data, filename, inline=True)


@bp.route("/claims/<int:claim_id>/cms1500.pdf")
@roles(Role.ADMIN, Role.BILLER)
def cms1500_pdf(claim_id: int):
    """The claim on the CMS-1500 (02/12) paper form, to print or mail to a payer that takes paper."""
    claim = _claim(claim_id)
    return _cms1500([claim], f"cms1500-{claim.patient_control_number}.pdf")


@bp.route("/claims/cms1500.pdf", methods=["GET", "POST"])
@roles(Role.ADMIN, Role.BILLER)
def cms1500_bulk():
    """The claims named (or ticked on the claims page, posted) on CMS-1500 forms, one PDF: a form each, more
    for a claim of more than six lines."""
    ids = sorted({int(value) for value in request.values.getlist("claim") if value.isdigit()})
    if not ids:
        abort(422, "Tick the claims to print first.")
    if len(ids) > PRINT_LIMIT:
        abort(422, f"Print at most {PRINT_LIMIT} claims at a time.")
    claims = [_claim(claim_id) for claim_id in ids]
    return _cms1500(claims, f"cms1500-{len(claims)}-claims.pdf")


@bp.route("/claims/<int:claim_id>/pointers", methods=["POST"])
@roles(Role.ADMIN, Role.BILLER)
def pointers(claim_id: int):
    """Choose which diagnoses each line points at (up to four, each one the claim carries)."""
    claim = _claim(claim_id)
    form = pointers_form(claim, request.form)
    if form.validate():
        try:
            rules.set_pointers(claim, form.pointers, current_user)
        except ClaimError as error:
            line_id = next((line.id for line in claim.lines if f"Line {line.position} " in str(error)), None)
            target = form[f"line_{line_id}"] if line_id else None
            if target is None:
                flash(str(error), "error")
                return see_other(url_for("claims.show", claim_id=claim.id))
            target.errors = [*target.errors, str(error).split(": ", 1)[-1]]
            return _show(claim, form, 422)
        flash("Diagnosis pointers saved.", "success")
        return see_other(url_for("claims.show", claim_id=claim.id))
    return _show(claim, form, 422)


def _where(claim: Claim) -> str:
    return "queued" if claim.status == ClaimStatus.QUEUED else "in Needs Review: fix what it lists, then recheck"


#: What an action did to one claim, and how a bulk summary counts it (one claim, several claims).
OUTCOMES = {
    "queued": ("claim back in the queue", "claims back in the queue"),
    "review": ("claim still needs review", "claims still need review"),
    "voided": ("claim voided with the payer", "claims voided with the payer"),
    "replaced": ("claim replaced", "claims replaced"),
}


def _act(claim: Claim, action: str) -> tuple[str, str]:
    """Do the action; the outcome (a key of OUTCOMES) and what happened, in words."""
    if action == "recheck" or action == "queue":
        if action == "queue" and claim.status != ClaimStatus.NEEDS_REVIEW:
            raise ClaimError("Only a claim in Needs Review can be queued again.")
        if rules.recheck(claim, current_user):
            return "queued", "Back in the queue."
        return "review", "Still needs review."
    if action not in ("void", "replace"):
        raise ClaimError("Unknown action.")
    # A refused replacement or void may have written part of its work: the savepoint takes it back.
    with db.session.begin_nested():
        if action == "void":
            made = denials.void_at_payer(claim, current_user)
            return "voided", f"Void claim {made.patient_control_number} (frequency 8) is {_where(made)}."
        made = denials.resubmit_corrected(claim, current_user)
        return "replaced", f"Replacement claim {made.patient_control_number} (frequency 7) is {_where(made)}."


def bulk_summary(outcomes: Counter, refused: list[str]) -> str:
    """Each outcome counted in its own words ("2 claims back in the queue; 1 claim still needs review"), then the
    claims the action did not apply to and why."""
    parts = [f"{count} {OUTCOMES[kind][count != 1]}" for kind in OUTCOMES if (count := outcomes[kind])]
    summary = "; ".join(parts) + "." if parts else "No claim changed."
    if refused:
        summary += f" Not changed ({len(refused)}): " + "; ".join(refused[:5]) + ("; …" if len(refused) > 5 else ".")
    return summary


@bp.route("/claims/<int:claim_id>/<any(recheck, queue, void, replace):action>", methods=["POST"])
@roles(Role.ADMIN, Role.BILLER)
def act(claim_id: int, action: str):
    """Recheck a claim after a fix, queue it, or correct and replace (frequency 7) or void (8) it with the payer."""
    claim = _claim(claim_id)
    try:
        flash(_act(claim, action)[1], "success")
    except ClaimError as error:
        flash(str(error), "error")
    return see_other(url_for("claims.show", claim_id=claim.id))


@bp.route("/claims/bulk", methods=["POST"])
@roles(Role.ADMIN, Role.BILLER)
def bulk():
    """Apply queue, recheck or void to the ticked claims, and say what happened to them, outcome by outcome."""
    action = request.form.get("action", "")
    ids = [int(value) for value in request.form.getlist("claim") if value.isdigit()]
    outcomes, refused = Counter(), []
    for claim_id in ids:
        claim = _claim(claim_id)
        try:
            outcomes[_act(claim, action)[0]] += 1
        except ClaimError as error:
            refused.append(f"{claim.patient_control_number}: {error}")
    changed = outcomes.total() - outcomes["review"]
    flash(bulk_summary(outcomes, refused), "success" if changed else "info" if outcomes else "error")
    return see_other(request.form.get("next") or url_for("claims.index"))


# ---------------------------------------------------------------- the denials queue

DENIAL_ACTIONS = ("resubmit", "void", "appeal", "bill_client", "write_off")


def _denials_query(worked: bool):
    """To work: Denied and not worked. Worked: every claim whose denial was worked, whatever happened since (an
    appeal may have been paid)."""
    if worked:
        return select(Claim).where(access.claim_filter(current_user), Claim.denial_action.is_not(None))
    return select(Claim).where(worklist.denial_to_work(current_user))


def _count_subquery(query):
    return select(func.count()).select_from(query.subquery()).scalar_subquery()


def _count(query) -> int:
    return db.session.scalar(select(_count_subquery(query)))


def _count_each(**queries) -> dict[str, int]:
    """Several counts in one round trip: {name: count of that query's rows}."""
    return dict(zip(queries, db.session.execute(select(*map(_count_subquery, queries.values()))).one()))


def _counts() -> dict:
    return _count_each(to_work=_denials_query(False), worked=_denials_query(True))


def _liabilities(claims_: list[Claim], reasons: dict[int, list[dict]]) -> dict:
    """Who may be billed for each row's denial, and so which actions the row offers."""
    return {claim.id: denials.client_liability(claim, reasons.get(claim.id, [])) for claim in claims_}


def _denial_forms(claim: Claim, **bound) -> dict:
    """The small forms of a queue row, prefixed with the claim id so a page of rows has no duplicate ids."""
    prefix = f"denial-{claim.id}"
    return {"appeal": bound.get("appeal") or DenialNoteForm(formdata=None, prefix=prefix),
            "write_off": bound.get("write_off") or WriteOffForm(formdata=None, prefix=prefix)}


def _queue_page(rows: list[Claim], worked: bool, status: int = 200, next_args: dict | None = None, **bound):
    ids = [claim.id for claim in rows]
    follow_ups = {claim.original_claim_id: claim for claim in db.session.scalars(
        select(Claim).where(Claim.original_claim_id.in_(ids)).order_by(Claim.id.desc()))} if ids else {}
    reasons = denials.denial_reasons_by_claim(ids)
    return render_page("claims/denials.html", status=status, rows=rows, worked=worked, counts=_counts(),
                       reasons=reasons, liabilities=_liabilities(rows, reasons), follow_ups=follow_ups,
                       row_forms={claim.id: _denial_forms(claim, **bound) for claim in rows}, actions=denials.ACTIONS,
                       confirm=ConfirmForm(), next_args=next_args)


@bp.route("/claims/denials")
@roles(Role.ADMIN, Role.BILLER)
def denials_queue():
    """Denied claims nobody has worked yet, oldest first, with the payer's reasons in plain words; the Worked
    tab lists what was done about the others, latest first."""
    worked = request.args.get("tab") == "worked"
    query = _denials_query(worked).options(selectinload(Claim.client), selectinload(Claim.payer))
    if worked:
        query = query.options(selectinload(Claim.events).selectinload(ClaimEvent.member))
    after = request.args.get("after", type=int)
    if after:
        query = query.where(Claim.id < after if worked else Claim.id > after)  # keyset, like /claims
    rows = db.session.scalars(query.order_by(Claim.id.desc() if worked else Claim.id).limit(PAGE_SIZE + 1)).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_args = ({"tab": "worked"} if worked else {}) | {"after": rows[-1].id} if more else None
    return _queue_page(rows, worked, next_args=next_args)


def _work(claim: Claim, action: str, appeal_form: DenialNoteForm, write_off_form: WriteOffForm) -> str:
    """Run one denial action; returns the message for the person."""
    if action == "resubmit":
        made = denials.resubmit_corrected(claim, current_user)
        return f"Replacement claim {made.patient_control_number} (frequency 7) is {_where(made)}."
    if action == "void":
        made = denials.void_at_payer(claim, current_user)
        return f"Void claim {made.patient_control_number} (frequency 8) is {_where(made)}."
    if action == "appeal":
        denials.appeal(claim, appeal_form.note.data, current_user)
        return f"Appeal of claim {claim.patient_control_number} recorded."
    if action == "bill_client":
        bill = denials.bill_client(claim, current_user)
        return f"Bill {bill.number} is the client's to pay: ${dollars(bills.totals(bill).balance)}."
    amount = denials.write_off(claim, write_off_form.reason.data, current_user)
    return f"${dollars(amount)} written off on claim {claim.patient_control_number}'s bill."


def _denial_row(claim: Claim, status: int = 200, **bound):
    """The queue row alone (htmx): after an action it shows what was done."""
    follow_up = denials.follow_up(claim) if claim.denial_action else None
    db.session.expire(claim, ["events"])  # the action's event was added by id, not through the relationship
    reasons = denials.denial_reasons_by_claim([claim.id])
    return render_page("claims/denials.html", status=status, block="denial_row", claim=claim,
                       reasons=reasons, liabilities=_liabilities([claim], reasons),
                       follow_ups={claim.id: follow_up} if follow_up else {},
                       row_forms={claim.id: _denial_forms(claim, **bound)}, actions=denials.ACTIONS)


def _invalid(claim: Claim, appeal_form: DenialNoteForm, write_off_form: WriteOffForm):
    """422: the row again with the message beside the field (without htmx, the queue showing that row)."""
    if htmx.is_htmx():
        return _denial_row(claim, 422, appeal=appeal_form, write_off=write_off_form)
    return _queue_page([claim], False, 422, appeal=appeal_form, write_off=write_off_form)


@bp.route(f"/claims/<int:claim_id>/denial/<any({', '.join(DENIAL_ACTIONS)}):action>", methods=["POST"])
@roles(Role.ADMIN, Role.BILLER)
def work_denial(claim_id: int, action: str):
    """Work a denied claim: correct and resubmit, void, appeal, bill the client or write off. htmx swaps the
    row; a plain form post goes back to the queue."""
    claim = _claim(claim_id)
    prefix = f"denial-{claim.id}"
    appeal_form, write_off_form = DenialNoteForm(prefix=prefix), WriteOffForm(prefix=prefix)
    form = {"appeal": appeal_form, "write_off": write_off_form}.get(action)
    if form is not None and not form.validate():
        return _invalid(claim, appeal_form, write_off_form)
    try:
        message = _work(claim, action, appeal_form, write_off_form)
    except DenialRefused as error:
        if error.field and form is not None:
            show_problems(form, {error.field: str(error)})
            return _invalid(claim, appeal_form, write_off_form)
        abort(409, str(error))
    except ClaimError as error:  # the replacement or void could not be built (e.g. the note is unsigned)
        abort(409, str(error))
    if not htmx.is_htmx():
        flash(message, "success")
        return see_other(url_for("claims.denials_queue"))
    counts = _counts()
    # The queue's tabs and the home page's work list (any page showing these counts) update without a reload.
    response = htmx.trigger(make_response(_denial_row(claim)), "counts:changed", {
        "denials-to-work": counts["to_work"], "denials-worked": counts["worked"], "denials": counts["to_work"]})
    return htmx.toast(response, message)


# ---------------------------------------------------------------- sending

PROBLEM_JOBS = ("submit_claims", "poll_status")


def _job_problems(practice_id: int) -> list[JobProblem]:
    return db.session.scalars(select(JobProblem).where(JobProblem.practice_id == practice_id,
                                                       JobProblem.cleared_at.is_(None),
                                                       JobProblem.job.in_(PROBLEM_JOBS))
                              .order_by(JobProblem.id.desc()).limit(5)).all()


def sending_context() -> dict:
    """The sending tools and warnings of the claims page (and the home page), for the people who send claims."""
    if current_user.role == Role.CLINICIAN:
        return {"sending": None}
    practice = current_user.practice
    state = _with_payer(jobs.submission_state(current_user.practice_id))
    return {"sending": {
        "clearinghouse": NAMES.get(practice.clearinghouse, practice.clearinghouse),
        "automated": practice.clearinghouse in ("sandbox", "claimmd"), "files": practice.clearinghouse == "files",
        **_count_each(ready=submissions.ready_to_send(practice.id), denials=_denials_query(False)),
        "state": state if state["running"] or (state.get("payer") or {}).get("waiting") else None,
        "job_problems": _job_problems(practice.id)}}


#: The steps a sent claim goes through before the payer's answer, as the progress fragment shows them.
IN_FLIGHT = (ClaimStatus.SENT, ClaimStatus.RECEIVED, ClaimStatus.IN_PROCESS)


def _with_payer(state: dict) -> dict:
    """After a sending job that sent claims to the sandbox, how many of the practice's claims the sandbox payer is
    still working on, step by step (it answers within seconds, so the fragment keeps watching); a real payer takes
    days, so for other clearinghouses the fragment stops when the file is sent."""
    practice = current_user.practice
    sent = (state.get("result") or {}).get("sent") or 0
    if state["running"] or state.get("outcome") != "finished" or not sent or practice.clearinghouse != "sandbox":
        return state
    counts = rules.status_counts(practice.id)
    steps = [(status.label, counts.get(status.value, 0)) for status in IN_FLIGHT]
    waiting = sum(count for _, count in steps)
    return {**state, "payer": {"steps": steps, "waiting": waiting, "answered": max(0, sent - waiting), "sent": sent}}


def _progress(state: dict):
    """The progress fragment. Once the job has ended, and the sandbox payer has answered every claim it sent,
    it carries no trigger, and htmx is answered 286, so polling stops either way."""
    state = _with_payer(state)
    watching = state["running"] or (state.get("payer") or {}).get("waiting")
    status = htmx.STOP_POLLING if not watching and htmx.is_htmx() else 200
    return render_page("claims/_submission.html", status=status, state=state)


@bp.route("/claims/submission")
@roles(Role.ADMIN, Role.BILLER)
def submission():
    """The progress of the practice's latest submission job; it asks again every second while the job runs."""
    return _progress(jobs.submission_state(current_user.practice_id))


@bp.route("/claims/submit", methods=["POST"])
@roles(Role.ADMIN, Role.BILLER)
def submit():
    """Send the Queued For Submission claims to the clearinghouse now: a job, queued once this request commits."""
    practice = current_user.practice
    if practice.clearinghouse not in ("sandbox", "claimmd"):
        abort(409, "This practice sends claims as files: use Download 837 batch instead.")
    if practice.clearinghouse == "claimmd" and not practice.claimmd_account_key:
        abort(409, "Claim.MD needs the practice's AccountKey first: Settings → Insurance.")
    job_id = jobs.enqueue_submission(practice.id, job_id=f"submit_claims-{practice.id}-web-{time.time_ns()}")
    audit.record("claims.submission_requested", practice, job_id=job_id, actor=current_user)
    if not htmx.is_htmx():
        flash("Sending the queued claims now.", "success")
        return see_other(url_for("claims.index"))
    return _progress(jobs.submission_state(current_user.practice_id, just_queued=True))


@bp.route("/claims/download", methods=["POST"])
@roles(Role.ADMIN, Role.BILLER)
def download():
    """The files clearinghouse: write the queued claims into 837P files to download and send; they are Sent."""
    practice = current_user.practice
    if practice.clearinghouse != "files":
        abort(409, f"This practice sends claims through {NAMES.get(practice.clearinghouse, 'its clearinghouse')}: "
                   "use Send queued claims now.")
    waiting = _count(submissions.ready_to_send(practice.id))
    files = submissions.download(practice, current_user)
    sent = sum(file.claim_count for file in files)
    audit.record("claims.downloaded", practice, files=[file.id for file in files], claims=sent, actor=current_user)
    return render_page("claims/download.html", files=files, sent=sent, failed=waiting - sent)


@bp.route("/x12/<int:file_id>")
@roles(Role.ADMIN, Role.BILLER)
def x12_file(file_id: int):
    """An X12 file as Parity stored it, one segment a line; with ?download=1, the file itself to save."""
    record = load(X12File, file_id)
    if request.args.get("download"):
        name = (db.session.scalar(select(Submission.filename).where(Submission.file_id == record.id))
                or f"parity-{record.kind.lower()}-{record.interchange_control_number or record.id}.x12")
        response = make_response(record.content)
        response.headers["Content-Type"] = "application/edi-x12"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    response = make_response(record.content.replace("~", "~\n"))
    response.headers["Content-Type"] = "text/plain; charset=ascii"
    return response


# ---------------------------------------------------------------- settings


@bp.route("/settings/insurance", methods=["GET", "POST"])
@roles(Role.ADMIN)
def settings():
    """Clearinghouse and its key, submitter and receiver, automation, polling and who bills on claims."""
    practice = current_user.practice
    form = InsuranceSettingsForm(obj=practice, key_stored=bool(practice.claimmd_account_key))
    if form.validate_on_submit():
        text = {name: (getattr(form, name).data or "").strip() or None
                for name in ("submitter_name", "submitter_id", "receiver_name", "receiver_id")}
        values = text | {name: getattr(form, name).data for name in (
            "clearinghouse", "create_claims_automatically", "billing_provider", "submit_claims_automatically")}
        if form.poll_every_minutes.data is not None:  # left blank: keep the interval
            values["poll_every_minutes"] = form.poll_every_minutes.data
        changed = audit.apply_changes(practice, values)
        new_key = form.claimmd_account_key.data
        if new_key:  # left blank: keep the stored key
            practice.claimmd_account_key = secrets_at_rest.encrypt(new_key, encryption_key(current_app.config))
            changed["claimmd_account_key"] = "replaced"  # never the key itself, not even in the audit log
        if changed:
            audit.record("practice.insurance_settings_changed", practice, **changed)
        flash("Insurance settings saved.", "success")
        return see_other(url_for("claims.settings"))
    return render_page("claims/settings.html", status=422 if request.method == "POST" else 200, form=form)
