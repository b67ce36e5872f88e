"""Bills, payments and the client's ledger: thin views over app/billing/bills.py."""
from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, flash, make_response, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import access, audit, csv_export, formatting, htmx
from app.authz import any_member, load, roles
from app.billing import (bill_documents, bills, claims, corrections, dates, eligibility, ledger, responsibility,
                         worklist)
from app.billing.bills import BillProblem, LineChange, LineProblems
from app.billing.claims import ClaimError
from app.billing.money import MoneyError, dollars, parse_cents
from app.blueprints.bills.forms import (AdjustmentForm, BillFilterForm, BillingSettingsForm, LineEditForm,
                                        PaymentFilterForm, PaymentForm, RefundForm, RemoveLineForm, ReverseForm,
                                        VoidForm)
from app.blueprints.settings.forms import ConfirmForm
from app.extensions import db
from app.forms import show_problems
from app.models import Bill, BillLine, BillStatus, Claim, ClaimStatus, Client, Member, Payment, Role, TherapySession
from app.rendering import csv_response, pdf_response, render_page, see_other

bp = Blueprint("bills", __name__)
payments_bp = Blueprint("payments", __name__, url_prefix="/payments")
money_roles = roles(Role.ADMIN, Role.BILLER)


def _bill(bill_id: int) -> Bill:
    return access.require_bill(current_user, load(Bill, bill_id))


def _bill_and_line(bill_id: int, bill_line_id: int) -> tuple[Bill, BillLine]:
    bill = _bill(bill_id)
    line = load(BillLine, bill_line_id)
    if line.bill_id != bill.id:
        abort(404)
    return bill, line


def _conflict_or_problem(error: BillProblem, form=None):
    """409 when the bill's state forbids the change, 422 with the message beside its field otherwise."""
    if error.conflict:
        abort(409, str(error))
    if form is not None:
        show_problems(form, {error.field: str(error)})


# ---------------------------------------------------------------- list and CSV


def _filtered(form: BillFilterForm):
    query = (select(Bill).where(access.bill_filter(current_user))
             .options(selectinload(Bill.client), selectinload(Bill.lines), selectinload(Bill.allocations),
                      selectinload(Bill.adjustments), selectinload(Bill.clinician)))
    if form.status.data:
        query = query.where(Bill.status == form.status.data.lower())
    if (form.client.data or "").isdigit():
        query = query.where(Bill.client_id == int(form.client.data))
    if (form.clinician.data or "").isdigit():
        query = query.where(Bill.clinician_id == int(form.clinician.data))
    if form.date_from.data:
        query = query.where(Bill.service_date >= form.date_from.data)
    if form.date_to.data:
        query = query.where(Bill.service_date <= form.date_to.data)
    if form.overdue.data:
        query = query.where(worklist.overdue_bill(worklist.practice_today(current_user.practice)))
    return query.order_by(Bill.id.desc())


def _summaries(rows: list[Bill]) -> list[dict]:
    """Totals for each listed bill, from its loaded entries (no query per row)."""
    out = []
    for bill in rows:
        charges = sum(line.charge_cents for line in bill.lines)
        paid = sum(a.amount_cents for a in bill.allocations)
        adjusted = sum(a.amount_cents for a in bill.adjustments)
        out.append({"bill": bill, "charges": charges, "paid": paid, "adjusted": adjusted,
                    "balance": charges - paid - adjusted})
    return out


@bp.route("/bills")
@any_member
def index():
    """List bills by status, client, clinician, date of service and past their terms; CSV of the same."""
    form = BillFilterForm(request.args)
    clients = db.session.scalars(select(Client).where(access.client_filter(current_user))
                                 .order_by(Client.last_name, Client.first_name)).all()
    form.client.choices = [("", "Any client")] + [(str(c.id), f"{c.last_name}, {c.first_name}") for c in clients]
    clinicians = db.session.scalars(select(Member).where(Member.practice_id == current_user.practice_id,
                                                         Member.role == Role.CLINICIAN).order_by(Member.name)).all()
    form.clinician.choices = [("", "Any clinician")] + [(str(m.id), m.name) for m in clinicians]
    form.validate()
    rows = _summaries(db.session.scalars(_filtered(form).limit(None if request.args.get("format") == "csv"
                                                                 else 500)).all())
    if request.args.get("format") == "csv":
        return csv_response(csv_export.csv_text(
            ["number", "status", "client", "clinician", "service_date", "charges", "paid", "adjustments", "balance"],
            [[r["bill"].number, r["bill"].status, r["bill"].client.legal_name,
              r["bill"].clinician.name if r["bill"].clinician else "", r["bill"].service_date,
              *(csv_export.amount(r[key]) for key in ("charges", "paid", "adjusted", "balance"))] for r in rows]),
            "bills.csv")
    return render_page("bills/index.html", form=form, rows=rows, statuses=list(BillStatus))


# ---------------------------------------------------------------- one bill


def _bill_page(bill: Bill, status: int = 200, line_forms: dict | None = None, new_line: LineEditForm | None = None,
               void_form=None, adjustment_form=None, block=None, correcting: bool = False):
    to_correct = corrections.claim_to_correct(bill)
    correcting = correcting and to_correct is not None
    lines = {line.id: (line_forms or {}).get(line.id) or LineEditForm(
        formdata=None, prefix=f"line-{line.id}", code=line.code, description=line.description, units=line.units,
        price=dollars(line.price_cents), modifiers=" ".join(line.modifiers), correct_claim="1" if correcting else "")
        for line in bill.lines}
    totals = bills.totals(bill)
    return render_page("bills/show.html", status=status, block=block, bill=bill, totals=totals,
                       line_forms=lines, new_line=new_line or LineEditForm(
                           formdata=None, prefix="new-line", correct_claim="1" if correcting else ""),
                       void_form=void_form or VoidForm(formdata=None), confirm=ConfirmForm(),
                       adjustment_form=adjustment_form or AdjustmentForm(formdata=None),
                       credit=bills.client_credit(bill.client_id),
                       editable=bill.status in bills.EDITABLE and (to_correct is None or correcting),
                       to_correct=to_correct if bill.status in bills.EDITABLE else None, correcting=correcting,
                       owed_by=responsibility.side_of(bill), sessions=_sessions(bill),
                       may_handle_money=current_user.role in (Role.ADMIN, Role.BILLER),
                       minutes=bills.session_minutes(bill), outlook=_outlook(bill), **_insurance(bill))


def _outlook(bill: Bill):
    """For a Pended bill of an insured client: the latest eligibility answer and the client's expected share."""
    if bill.status != BillStatus.PENDED or claims.primary_policy(bill) is None:
        return None
    return eligibility.outlook(bill.client, bills.totals(bill).charges)


def _sessions(bill: Bill) -> list[TherapySession]:
    """The sessions the bill's lines bill, the member may open."""
    ids = sorted({line.session_id for line in bill.lines if line.session_id})
    return db.session.scalars(select(TherapySession).where(TherapySession.id.in_(ids),
                                                           access.session_filter(current_user))
                              .order_by(TherapySession.starts_at)).all() if ids else []


def _insurance(bill: Bill) -> dict:
    """The bill's claims the member may open, or why it has none when the client is insured."""
    bill_claims = db.session.scalars(select(Claim).where(Claim.bill_id == bill.id, access.claim_filter(current_user))
                                     .order_by(Claim.id)).all()
    # A claim hidden from this member still means one was made: never say otherwise.
    claimed = bool(bill_claims) or db.session.scalar(select(Claim.id).where(Claim.bill_id == bill.id).limit(1))
    insured = claims.primary_policy(bill) is not None
    return {"bill_claims": bill_claims,
            "claim_problems": claims.eligibility_problems(bill) if insured and not claimed else []}


@bp.route("/bills/<int:bill_id>")
@any_member
def show(bill_id: int):
    """A bill: lines (editable while Pended or Open), totals, payments, history and actions."""
    return _bill_page(_bill(bill_id))


@bp.route("/bills/<int:bill_id>/correct")
@any_member
def correct(bill_id: int):
    """Correct the claim: the bill's lines, editable, where each change also queues a corrected claim."""
    bill = _bill(bill_id)
    if bill.status not in bills.EDITABLE:
        abort(409, f"This bill is {bill.status} and can no longer be edited.")
    if corrections.claim_to_correct(bill) is None:
        return see_other(url_for("bills.show", bill_id=bill.id))
    return _bill_page(bill, correcting=True)


def _corrected(bill: Bill, made: list[Claim]):
    """After a change made through Correct the claim: back to the bill, which lists the corrected claims."""
    kinds = {"1": "new claim", "7": "replacement", "8": "void"}
    if made:
        flash("Claim corrected: " + ", ".join(f"claim {claim.patient_control_number} ({kinds[claim.frequency_code]}, "
                                              f"{ClaimStatus(claim.status).label})" for claim in made) + ".",
              "success")
    else:
        flash("Saved; the payer reads nothing new, so the claim stands.", "success")
    url = url_for("bills.show", bill_id=bill.id)
    return htmx.redirect(make_response("", 200), url) if htmx.is_htmx() else see_other(url)


def _change(form: LineEditForm) -> LineChange:
    return LineChange(code=form.code.data or "", description=form.description.data or "",
                      units=form.units.data, price_cents=form.price.cents,
                      modifiers=tuple((form.modifiers.data or "").replace(",", " ").upper().split()))


def _line_response(bill: Bill, line: BillLine | None, form: LineEditForm, status: int):
    """htmx: the edited row, plus the totals swapped out of band; plain posts go back to the bill."""
    if not htmx.is_htmx():
        if status == 200:
            return see_other(url_for("bills.show", bill_id=bill.id))
        return _bill_page(bill, status, line_forms={line.id: form} if line else None,
                          new_line=form if line is None else None, correcting=bool(form.correct_claim.data))
    response = make_response(render_page("bills/show.html", status=status, block="line_update", bill=bill, line=line,
                                         form=form, totals=bills.totals(bill), editable=bill.status in bills.EDITABLE,
                                         minutes=bills.session_minutes(bill), owed_by=responsibility.side_of(bill)))
    if line is None:
        return response
    if status == 200:
        return htmx.toast(response, f"Line {line.position} saved: {line.code}, {formatting.cents(line.charge_cents)}.")
    return htmx.toast(response, f"Line {line.position} not saved: see the fields marked.", "error")


@bp.route("/bills/<int:bill_id>/lines/<int:bill_line_id>", methods=["POST"])
@any_member
def edit_line(bill_id: int, bill_line_id: int):
    """Change a line's code (through the autocomplete), description, units, price or modifiers."""
    bill, line = _bill_and_line(bill_id, bill_line_id)
    form = LineEditForm(prefix=f"line-{line.id}")
    if form.validate():
        try:
            if form.correct_claim.data:
                return _corrected(bill, corrections.change_line(bill, line, _change(form), current_user))
            bills.update_line(bill, line, _change(form), current_user)
        except LineProblems as error:
            show_problems(form, error.problems)
        except ClaimError as error:
            db.session.rollback()  # the bill's change is not kept without its corrected claim
            show_problems(form, {"code": str(error)})
        except BillProblem as error:
            _conflict_or_problem(error, form)
        else:
            db.session.refresh(bill)
            fresh = LineEditForm(formdata=None, prefix=f"line-{line.id}", code=line.code, description=line.description,
                                 units=line.units, price=dollars(line.price_cents), modifiers=" ".join(line.modifiers))
            return _line_response(bill, line, fresh, 200)
    elif bill.status not in bills.EDITABLE:
        abort(409, f"This bill is {bill.status} and can no longer be edited.")
    return _line_response(bill, line, form, 422)


@bp.route("/bills/<int:bill_id>/lines", methods=["POST"])
@any_member
def add_line(bill_id: int):
    """Add a line to a Pended or Open bill."""
    bill = _bill(bill_id)
    form = LineEditForm(prefix="new-line")
    if form.validate():
        try:
            if form.correct_claim.data:
                return _corrected(bill, corrections.add_line(bill, _change(form), current_user))
            bills.add_line(bill, _change(form), current_user)
        except LineProblems as error:
            show_problems(form, error.problems)
        except ClaimError as error:
            db.session.rollback()  # the bill's change is not kept without its corrected claim
            show_problems(form, {"code": str(error)})
        except BillProblem as error:
            _conflict_or_problem(error, form)
        else:
            return see_other(url_for("bills.show", bill_id=bill.id))
    elif bill.status not in bills.EDITABLE:
        abort(409, f"This bill is {bill.status} and can no longer be edited.")
    return _bill_page(bill, 422, new_line=form, correcting=bool(form.correct_claim.data))


@bp.route("/bills/<int:bill_id>/lines/<int:bill_line_id>/delete", methods=["POST"])
@any_member
def remove_line(bill_id: int, bill_line_id: int):
    """Remove a line from a Pended or Open bill."""
    bill, line = _bill_and_line(bill_id, bill_line_id)
    form = RemoveLineForm()
    try:
        if form.correct_claim.data:
            return _corrected(bill, corrections.remove_line(bill, line, current_user))
        bills.remove_line(bill, line, current_user)
    except ClaimError as error:
        abort(422, str(error))  # nothing of the removal is kept
    except BillProblem as error:
        _conflict_or_problem(error)
        flash(str(error), "error")
    return see_other(url_for("bills.show", bill_id=bill.id))


def _transition(bill_id: int, action, message: str, form=None):
    bill = _bill(bill_id)
    try:
        action(bill)
    except BillProblem as error:
        _conflict_or_problem(error, form)
        if form is not None:
            return _bill_page(bill, 422, **{f"{type(form).__name__.removesuffix('Form').lower()}_form": form})
        flash(str(error), "error")
    else:
        flash(message, "success")
    return see_other(url_for("bills.show", bill_id=bill.id))


@bp.route("/bills/<int:bill_id>/open", methods=["POST"])
@any_member
def open_bill(bill_id: int):
    """Issue a Pended bill to the client."""
    return _transition(bill_id, lambda bill: bills.open_bill(bill, current_user), "Bill opened.")


@bp.route("/bills/<int:bill_id>/send", methods=["POST"])
@money_roles
def send(bill_id: int):
    """Email the bill PDF to the client or billing contact (by the worker, after commit)."""
    return _transition(bill_id, lambda bill: bills.send(bill, current_user), "The bill is on its way.")


@bp.route("/bills/<int:bill_id>/void", methods=["POST"])
@money_roles
def void(bill_id: int):
    """Void a Pended or Open bill with a reason; money applied to it becomes client credit."""
    form = VoidForm()
    if not form.validate():
        bill = _bill(bill_id)
        if bill.status not in bills.EDITABLE:
            abort(409, f"A {bill.status} bill cannot be voided.")
        return _bill_page(bill, 422, void_form=form)
    return _transition(bill_id, lambda bill: bills.void_bill(bill, form.reason.data, current_user), "Bill voided.",
                       form)


@bp.route("/bills/<int:bill_id>/adjustments", methods=["POST"])
@money_roles
def adjust(bill_id: int):
    """Write off or adjust part of the balance, with a reason."""
    form = AdjustmentForm()
    if not form.validate():
        return _bill_page(_bill(bill_id), 422, adjustment_form=form)
    return _transition(bill_id, lambda bill: bills.adjust(bill, form.kind.data, form.amount.cents, form.reason.data,
                                                          current_user), "Adjustment recorded.", form)


@bp.route("/bills/<int:bill_id>/apply-credit", methods=["POST"])
@money_roles
def apply_credit(bill_id: int):
    """Use the client's credit on this bill."""
    return _transition(bill_id, lambda bill: bills.apply_credit(bill, current_user), "Credit applied.")


@bp.route("/bills/<int:bill_id>/bill.pdf")
@any_member
def bill_pdf(bill_id: int):
    """The bill as a PDF."""
    bill = _bill(bill_id)
    return pdf_response(bill_documents.bill_pdf(bill), f"bill-{bill.number}.pdf")


@bp.route("/bills/<int:bill_id>/superbill.pdf")
@any_member
def superbill_pdf(bill_id: int):
    """The superbill a self-pay client sends their insurer: only for Open or Complete bills."""
    bill = _bill(bill_id)
    if bill.status not in (BillStatus.OPEN, BillStatus.COMPLETE):
        abort(409, "A superbill is available once the bill is Open: open the bill first.")
    return pdf_response(bill_documents.superbill_pdf(bill), f"superbill-{bill.number}.pdf")


# ---------------------------------------------------------------- creating bills, the client's ledger


@bp.route("/bills/new", methods=["GET", "POST"])
@money_roles
def new():
    """Create a bill by hand from completed, unbilled sessions of one client (first choose the client)."""
    if not request.values.get("client", type=int):
        waiting = ledger.clients_with_unbilled_sessions(current_user.practice_id)
        return render_page("bills/choose_client.html", clients=waiting)
    client = load(Client, request.values.get("client", type=int))
    unbilled = ledger.unbilled_sessions(client.id)
    error = None
    if request.method == "POST":
        ConfirmForm().validate()
        chosen = [session for session in unbilled if str(session.id) in request.form.getlist("session")]
        try:
            bill = bills.create_from_sessions(current_user.practice, chosen, current_user)
        except BillProblem as problem:
            _conflict_or_problem(problem)
            error = str(problem)
        else:
            flash(f"Bill {bill.number} created.", "success")
            return see_other(url_for("bills.show", bill_id=bill.id))
    return render_page("bills/new.html", status=422 if error else 200, client=client, sessions=unbilled, error=error,
                       confirm=ConfirmForm())


@bp.route("/clients/<int:client_id>/ledger")
@any_member
def client_ledger(client_id: int):
    """The client's ledger: bills, payments, adjustments and refunds with a running balance; CSV too."""
    client = access.require_account(current_user, load(Client, client_id))
    entries = ledger.entries(client.id)
    if request.args.get("format") == "csv":
        return csv_response(csv_export.csv_text(
            ["date", "description", "charge", "credit", "balance"],
            [[e.day.isoformat(), e.description, csv_export.amount(e.charge) if e.charge else None,
              csv_export.amount(e.credit) if e.credit else None, csv_export.amount(e.balance)] for e in entries]),
            f"ledger-{client.last_name.lower()}-{client.id}.csv")
    return render_page("bills/ledger.html", client=client, entries=entries, credit=bills.client_credit(client.id),
                       unbilled=ledger.unbilled_sessions(client.id),
                       statement=bill_documents.statement_document(client, None, None))


@bp.route("/clients/<int:client_id>/statement.pdf")
@any_member
def statement_pdf(client_id: int):
    """The client's statement for a period (?from=YYYY-MM-DD&to=YYYY-MM-DD)."""
    client = access.require_account(current_user, load(Client, client_id))
    try:
        start = date.fromisoformat(request.args["from"]) if request.args.get("from") else None
        end = date.fromisoformat(request.args["to"]) if request.args.get("to") else None
    except ValueError:
        abort(422, "Dates are YYYY-MM-DD.")
    return pdf_response(bill_documents.statement_pdf(client, start, end), f"statement-{client.last_name.lower()}-{client.id}.pdf")


# ---------------------------------------------------------------- payments


#: The newest payments the page lists (the CSV has every one that matches).
PAYMENTS_SHOWN = 200


def _payments(form: PaymentFilterForm):
    query = (select(Payment).where(Payment.practice_id == current_user.practice_id)
             .options(selectinload(Payment.client), selectinload(Payment.allocations)))
    if form.date_from.data:
        query = query.where(Payment.received_on >= form.date_from.data)
    if form.date_to.data:
        query = query.where(Payment.received_on <= form.date_to.data)
    if form.method.data:
        query = query.where(Payment.method == form.method.data)
    if (form.client.data or "").isdigit():
        query = query.where(Payment.client_id == int(form.client.data))
    return query.order_by(Payment.received_on.desc(), Payment.id.desc())


@payments_bp.route("")
@money_roles
def index():
    """Payments, newest first, filtered by date received, method and client; CSV of the same."""
    form = PaymentFilterForm(request.args)
    clients = db.session.scalars(select(Client).where(Client.practice_id == current_user.practice_id)
                                 .order_by(Client.last_name, Client.first_name)).all()
    form.client.choices = [("", "Any client")] + [(str(c.id), f"{c.last_name}, {c.first_name}") for c in clients]
    if not form.validate():
        return render_page("payments/index.html", status=422, form=form, payments=[], more=False)
    csv = request.args.get("format") == "csv"
    payments = db.session.scalars(_payments(form).limit(None if csv else PAYMENTS_SHOWN + 1)).all()
    if csv:
        zone_name = current_user.practice.timezone
        return csv_response(csv_export.csv_text(
            ["received_on", "client", "from", "method", "reference", "amount", "applied", "reversed_on",
             "reversal_reason"],
            [[p.received_on.isoformat(), p.client.legal_name, p.source, p.method, p.reference,
              csv_export.amount(p.amount_cents), csv_export.amount(sum(a.amount_cents for a in p.allocations)),
              dates.local_day(p.reversed_at, zone_name).isoformat() if p.reversed_at else None, p.reversal_reason]
             for p in payments]),
            "payments.csv")
    return render_page("payments/index.html", form=form, payments=payments[:PAYMENTS_SHOWN],
                       more=len(payments) > PAYMENTS_SHOWN)


@payments_bp.route("/<int:payment_id>")
@money_roles
def show(payment_id: int):
    """One payment: who paid, how, the bills it paid, and its reversal (after a confirmation)."""
    payment = load(Payment, payment_id)
    return render_page("payments/show.html", payment=payment, reverse_form=ReverseForm(formdata=None),
                       unapplied=bills.unallocated(payment))


@payments_bp.route("/new", methods=["GET", "POST"])
@money_roles
def new():
    """Record a client or insurance payment and apply it to chosen bills or the oldest first. From a bill's
    page (?bill=), that bill's balance is filled in and the bill takes the money first."""
    form = PaymentForm()
    # A post needs only its own client to check the choice against; the whole list is for a page shown.
    _client_choices(form, only=form.client_id.data if request.method == "POST" else None)
    if request.method == "GET":
        form.bill_id.data = request.args.get("bill", type=int)
    from_bill = _bill(form.bill_id.data) if form.bill_id.data else None
    if request.method == "GET":
        form.client_id.data = from_bill.client_id if from_bill else request.args.get("client", type=int)
        form.received_on.data = dates.practice_today(current_user.practice_id)
        if from_bill is not None:
            form.amount.data = dollars(bills.totals(from_bill).balance)
    client = db.session.get(Client, form.client_id.data) if form.client_id.data else None
    open_bills = ledger.open_bills(client.id) if client and client.practice_id == current_user.practice_id else []
    if from_bill is not None and from_bill.client_id != form.client_id.data:
        from_bill = None  # another client was chosen: the usual rule applies
    if from_bill is not None:
        form.oldest_first.label.text = f"Apply to bill {from_bill.number} first, then the oldest open bills"
    if form.validate_on_submit():
        client = load(Client, form.client_id.data)
        allocate = None
        if not form.oldest_first.data:
            allocate = []
            for bill in open_bills:
                text = request.form.get(f"apply-{bill.id}", "").strip()
                if text:
                    try:
                        allocate.append((bill, parse_cents(text)))
                    except MoneyError as error:
                        form.form_errors.append(f"Bill {bill.number}: {error}")
        if not form.form_errors:
            try:
                payment = bills.record_payment(client, form.amount.cents, form.method.data, form.received_on.data,
                                               source=form.source.data, reference=form.reference.data,
                                               allocate=allocate, first=from_bill, actor=current_user)
            except BillProblem as error:
                _conflict_or_problem(error, form)
            else:
                left = bills.unallocated(payment)
                flash("Payment recorded." + (f" ${dollars(left)} stays as client credit." if left else ""), "success")
                return see_other(url_for("bills.show", bill_id=from_bill.id) if from_bill
                                 else url_for("bills.client_ledger", client_id=client.id))
    if request.method == "POST":
        _client_choices(form)
    return render_page("payments/new.html", status=422 if request.method == "POST" else 200, form=form,
                       open_bills=[(bill, bills.totals(bill)) for bill in open_bills], from_bill=from_bill)


def _client_choices(form: PaymentForm, only: int | None = None) -> None:
    """The practice's clients to pay for, names only (thousands in a large practice); with `only`, that client
    alone if it is the practice's (a choice from elsewhere is then no valid choice)."""
    query = (select(Client.id, Client.last_name, Client.first_name)
             .where(Client.practice_id == current_user.practice_id).order_by(Client.last_name, Client.first_name))
    if only is not None:
        query = query.where(Client.id == only)
    form.client_id.choices = [(client_id, f"{last}, {first}") for client_id, last, first in db.session.execute(query)]


@payments_bp.route("/<int:payment_id>/reverse", methods=["POST"])
@money_roles
def reverse(payment_id: int):
    """Reverse a payment that did not arrive (a bounced check); bills it paid owe again."""
    payment = load(Payment, payment_id)
    form = ReverseForm()
    if not form.validate():
        return render_page("payments/show.html", status=422, payment=payment, reverse_form=form,
                           unapplied=bills.unallocated(payment))
    try:
        bills.reverse_payment(payment, form.reason.data, current_user)
    except BillProblem as error:
        _conflict_or_problem(error)
        flash(str(error), "error")
    else:
        flash("Payment reversed.", "success")
    return see_other(url_for("payments.show", payment_id=payment.id))


@payments_bp.route("/refund/<int:client_id>", methods=["GET", "POST"])
@money_roles
def refund(client_id: int):
    """Pay the client's credit back to them."""
    client = load(Client, client_id)
    form = RefundForm()
    if request.method == "GET":
        form.refunded_on.data = dates.practice_today(current_user.practice_id)
    if form.validate_on_submit():
        try:
            bills.refund(client, form.amount.cents, form.method.data, form.refunded_on.data, form.reference.data,
                         current_user)
        except BillProblem as error:
            _conflict_or_problem(error, form)
        else:
            flash("Refund recorded.", "success")
            return see_other(url_for("bills.client_ledger", client_id=client.id))
    return render_page("payments/refund.html", status=422 if request.method == "POST" else 200, form=form,
                       client=client, credit=bills.client_credit(client.id))


# ---------------------------------------------------------------- billing settings


@bp.route("/settings/billing", methods=["GET", "POST"])
@roles(Role.ADMIN)
def settings():
    """Billing automation, numbering, terms and what bills print."""
    practice = current_user.practice
    form = BillingSettingsForm(obj=practice)
    if request.method == "GET":  # stored in tenths of a millimetre, shown in millimetres
        form.cms1500_offset_x.data = Decimal(practice.cms1500_offset_x) / 10
        form.cms1500_offset_y.data = Decimal(practice.cms1500_offset_y) / 10
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in (
            "bill_on_complete", "open_bills_automatically", "email_bills_when_opened", "payment_terms_days",
            "remit_to", "bill_message")} | {"bill_prefix": (form.bill_prefix.data or "").strip()} | {
            name: int((getattr(form, name).data * 10).to_integral_value()) for name in ("cms1500_offset_x",
                                                                                         "cms1500_offset_y")
            if "".join(getattr(form, name).raw_data or []).strip()}  # left blank: keep the offset
        changed = audit.apply_changes(practice, values)
        if changed:
            audit.record("practice.billing_settings_changed", practice, **changed)
        flash("Billing settings saved.", "success")
        return see_other(url_for("bills.settings"))
    return render_page("bills/settings.html", status=422 if request.method == "POST" else 200, form=form)
