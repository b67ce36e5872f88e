"""Clients: the list and search, each client's overview, sessions, billing and insurance, contacts."""
from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, make_response, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import selectinload

from app import access, audit, htmx, mail
from app.authz import any_member, load, roles
from app.billing import clients as rules
from app.billing import eligibility, estimates
from app.billing.clients import ClientProblems
from app.billing.money import dollars
from app.blueprints.clients.forms import (CheckEligibilityForm, ClientForm, ClientSearchForm, ContactForm,
                                         EligibilityResponseForm, EstimateForm, PolicyForm)
from app.blueprints.settings.forms import ConfirmForm
from app.extensions import db
from app.forms import show_problems
from app.models import (Client, Contact, EligibilityCheck, GoodFaithEstimate, InsurancePolicy, Member, Payer, Role,
                        ServiceCode, TherapySession)
from app.rendering import pdf_response, render_page, see_other

bp = Blueprint("clients", __name__, url_prefix="/clients")
billing_staff = roles(Role.ADMIN, Role.BILLER)
#: The most recent sessions the client page lists.
SESSIONS_SHOWN = 100
#: Code → words, for the pages.
LABELS = {"sexes": rules.SEXES, "relations": rules.RELATIONS, "priorities": rules.PRIORITIES,
          "relationships": rules.SUBSCRIBER_RELATIONSHIPS}


def _client(client_id: int) -> Client:
    return access.require_client(current_user, load(Client, client_id))


def _client_and(model: type, client_id: int, record_id: int):
    """The client and one of its contacts or policies, and None; or, when the URL names a record of
    another client, a response instead: 404, or for a GET of a record the member may see, its own address."""
    client, record = _client(client_id), load(model, record_id)
    if record.client_id == client.id:
        return client, record, None
    access.require_client(current_user, record.client)
    if request.method != "GET":
        abort(404)
    return client, record, see_other(url_for(request.endpoint, **{**request.view_args, "client_id": record.client_id}))


def _form_status() -> int:
    """A POST that renders its form again did not save: 422."""
    return 422 if request.method == "POST" else 200


def _submitted(form, save: Callable, message: str, client: Client | None = None):
    """For a valid POST, run `save` and go to the client's page (the client `save` returns, when none is
    given). None when the form is not posted or not valid, or when the domain refused the change: its
    problems then stand beside their fields, and the view renders the form again."""
    if form.validate_on_submit():
        try:
            saved = save()
        except ClientProblems as error:
            show_problems(form, error.problems)
        else:
            flash(message, "success")
            return see_other(url_for("clients.show", client_id=(client or saved).id))
    return None


# ---------------------------------------------------------------- list and search


@bp.route("")
@any_member
def index():
    """List the clients the member may see, searched by name, a keyset page at a time."""
    form = ClientSearchForm(request.args)
    form.validate()
    query = select(Client).where(access.client_filter(current_user)).options(selectinload(Client.primary_clinician))
    for word in (form.q.data or "").split()[:5]:
        query = query.where(or_(Client.first_name.icontains(word, autoescape=True),
                                Client.last_name.icontains(word, autoescape=True),
                                Client.preferred_name.icontains(word, autoescape=True)))
    after_id = request.args.get("after", type=int)
    after = db.session.scalar(select(Client).where(access.client_filter(current_user), Client.id == after_id)) \
        if after_id else None
    if after is not None:  # keyset: stable while clients are added, and as quick on the last page as the first
        query = query.where(tuple_(Client.last_name, Client.first_name, Client.id)
                            > (after.last_name, after.first_name, after.id))
    page_size = current_app.config["CLIENTS_PAGE_SIZE"]
    clients = db.session.scalars(query.order_by(Client.last_name, Client.first_name, Client.id)
                                 .limit(page_size + 1)).all()
    more_args = {**request.args.to_dict(), "after": clients[page_size - 1].id} if len(clients) > page_size else None
    return render_page("clients/index.html", form=form, clients=clients[:page_size], more_args=more_args,
                       first_page=after is None, today=rules.practice_today(current_user.practice_id))


# ---------------------------------------------------------------- a client


def _client_form(client: Client | None = None) -> ClientForm:
    form = ClientForm(obj=client)
    if current_user.role == Role.CLINICIAN:
        del form.primary_clinician_id  # a clinician's clients are their own
        return form
    clinicians = db.session.scalars(select(Member).where(
        Member.practice_id == current_user.practice_id, Member.role == Role.CLINICIAN,
        or_(Member.active.is_(True), Member.id == (client.primary_clinician_id if client else None)))
        .order_by(Member.name)).all()
    form.primary_clinician_id.choices = [("", "No primary clinician")] + [
        (member.id, member.name if member.active else f"{member.name} (deactivated)") for member in clinicians]
    return form


@bp.route("/new", methods=["GET", "POST"])
@any_member
def new():
    """Add a client; a clinician who adds one becomes its primary clinician."""
    form = _client_form()
    return (_submitted(form, lambda: rules.add_client(current_user.practice, form.data, by=current_user),
                       "Client added.")
            or render_page("clients/form.html", status=_form_status(), form=form, client=None))


@bp.route("/<int:client_id>")
@any_member
def show(client_id: int):
    """A client's overview, sessions, billing and insurance."""
    client = _client(client_id)
    sessions = db.session.scalars(
        select(TherapySession).where(access.session_filter(current_user), TherapySession.client_id == client.id)
        .options(selectinload(TherapySession.clinician)).order_by(TherapySession.starts_at.desc())
        .limit(SESSIONS_SHOWN)).all()
    today = rules.practice_today(client.practice_id)
    issued = db.session.scalars(select(GoodFaithEstimate).where(GoodFaithEstimate.client_id == client.id)
                                .order_by(GoodFaithEstimate.id.desc())).all()
    return render_page("clients/show.html", client=client, sessions=sessions, today=today,
                       needs_billing_contact=rules.needs_billing_contact(client, today),
                       sees_account=access.sees_account(current_user, client), **_eligibility_context(client),
                       estimates=issued, over_estimate=estimates.over_estimate(client.practice_id, client_id=client.id),
                       confirm=ConfirmForm(), **LABELS)


# ---------------------------------------------------------------- eligibility


def _eligibility_context(client: Client, *, upload_form: EligibilityResponseForm | None = None,
                         problem: str | None = None) -> dict:
    """What the client page's eligibility block shows: the newest answer with its date, a check still waiting,
    and for the files clearinghouse the 270 to download and the 271 upload."""
    latest = eligibility.latest_for_client(client)
    pending = eligibility.pending_for_client(client)
    today = rules.practice_today(client.practice_id)
    return {"eligibility_latest": latest, "eligibility_pending": pending,
            "eligibility_policy": eligibility.primary_policy(client, today),
            "eligibility_summary": eligibility.summary, "eligibility_lines": eligibility.printable,
            "eligibility_by_hand": current_user.practice.clearinghouse == "files",
            "check_form": CheckEligibilityForm(), "upload_form": upload_form or EligibilityResponseForm(formdata=None),
            "eligibility_problem": problem}


def _eligibility_block(client: Client, status: int = 200, **context):
    return render_page("clients/show.html", status=status, block="client_eligibility", client=client,
                       **_eligibility_context(client, **context))


@bp.route("/<int:client_id>/eligibility")
@any_member
def eligibility_status(client_id: int):
    """The client's eligibility block: the latest answer, or a check still waiting (polled while it is)."""
    return _eligibility_block(_client(client_id))


@bp.route("/<int:client_id>/policies/<int:policy_id>/eligibility", methods=["POST"])
@billing_staff
def check_eligibility(client_id: int, policy_id: int):
    """Check eligibility now: write the 270 and send it (or, for the files clearinghouse, offer it to download)."""
    client, policy, _ = _client_and(InsurancePolicy, client_id, policy_id)
    if CheckEligibilityForm().validate_on_submit():
        try:
            if current_user.practice.clearinghouse == "files":
                eligibility.start_check(policy, source="web", actor=current_user)
            else:
                eligibility.request_check(policy, actor=current_user)
        except eligibility.EligibilityProblem as error:
            return _eligibility_block(client, 422, problem=str(error))
    if htmx.is_htmx():
        return _eligibility_block(client)
    return see_other(url_for("clients.show", client_id=client.id, _anchor="client-eligibility"))


@bp.route("/<int:client_id>/eligibility/<int:check_id>/270")
@billing_staff
def eligibility_inquiry(client_id: int, check_id: int):
    """The check's 270, to send through another clearinghouse."""
    _, check, elsewhere = _client_and(EligibilityCheck, client_id, check_id)
    if elsewhere:
        return elsewhere
    response = make_response(check.request_270)
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{check.trace_number}.270"'
    return response


@bp.route("/<int:client_id>/eligibility/<int:check_id>/271", methods=["POST"])
@billing_staff
def upload_eligibility_response(client_id: int, check_id: int):
    """Upload the 271 received for a check's 270; one that does not read changes nothing (422)."""
    client, check, _ = _client_and(EligibilityCheck, client_id, check_id)
    form = EligibilityResponseForm()
    problem = None
    if form.validate_on_submit():
        try:
            eligibility.record_answer(check, form.text, actor=current_user)
        except eligibility.EligibilityProblem as error:
            show_problems(form, {"file": str(error)})
            # The form stands beside a check still waiting; for one already answered, say it above.
            problem = None if check.status in ("pending", "failed") else str(error)
        else:
            if htmx.is_htmx():
                return _eligibility_block(client)
            flash("Eligibility response read.", "success")
            return see_other(url_for("clients.show", client_id=client.id, _anchor="client-eligibility"))
    return _eligibility_block(client, 422, upload_form=form, problem=problem)


@bp.route("/<int:client_id>/edit", methods=["GET", "POST"])
@any_member
def edit(client_id: int):
    """Edit a client's identity, contact details and primary clinician."""
    client = _client(client_id)
    form = _client_form(client)
    return (_submitted(form, lambda: rules.update_client(client, form.data, by=current_user), "Client saved.", client)
            or render_page("clients/form.html", status=_form_status(), form=form, client=client))


# ---------------------------------------------------------------- contacts


def _contact_page(form: ContactForm, client: Client, contact: Contact | None):
    return render_page("clients/contact.html", status=_form_status(), form=form, client=client, contact=contact)


@bp.route("/<int:client_id>/contacts/new", methods=["GET", "POST"])
@any_member
def new_contact(client_id: int):
    """Add a guardian, parent, spouse or emergency contact, and choose who receives the bills."""
    client = _client(client_id)
    form = ContactForm()
    return (_submitted(form, lambda: rules.add_contact(client, form.data), "Contact added.", client)
            or _contact_page(form, client, None))


@bp.route("/<int:client_id>/contacts/<int:contact_id>", methods=["GET", "POST"])
@any_member
def edit_contact(client_id: int, contact_id: int):
    """Edit a contact of the client."""
    client, contact, elsewhere = _client_and(Contact, client_id, contact_id)
    if elsewhere:
        return elsewhere
    form = ContactForm(obj=contact)
    return (_submitted(form, lambda: rules.update_contact(contact, form.data), "Contact saved.", client)
            or _contact_page(form, client, contact))


# ---------------------------------------------------------------- insurance policies


def _policy_form(client: Client, policy: InsurancePolicy | None = None) -> PolicyForm:
    form = PolicyForm(obj=policy)
    payers = db.session.scalars(select(Payer).where(Payer.practice_id == client.practice_id)
                                .order_by(Payer.name)).all()
    form.payer_id.choices = [("", "Choose…")] + [(payer.id, payer.name) for payer in payers]
    if policy is not None and request.method == "GET":
        form.copay.data = dollars(policy.copay_cents)
    return form


def _policy_values(form: PolicyForm) -> dict:
    return {**form.data, "copay_cents": form.copay.cents or 0}


def _policy_page(form: PolicyForm, client: Client, policy: InsurancePolicy | None):
    return render_page("clients/policy.html", status=_form_status(), form=form, client=client, policy=policy)


@bp.route("/<int:client_id>/policies/new", methods=["GET", "POST"])
@any_member
def new_policy(client_id: int):
    """Add an insurance policy for the client."""
    client = _client(client_id)
    form = _policy_form(client)
    return (_submitted(form, lambda: rules.add_policy(client, _policy_values(form)), "Policy added.", client)
            or _policy_page(form, client, None))


@bp.route("/<int:client_id>/policies/<int:policy_id>", methods=["GET", "POST"])
@any_member
def edit_policy(client_id: int, policy_id: int):
    """Edit one of the client's insurance policies."""
    client, policy, elsewhere = _client_and(InsurancePolicy, client_id, policy_id)
    if elsewhere:
        return elsewhere
    form = _policy_form(client, policy)
    return (_submitted(form, lambda: rules.update_policy(policy, _policy_values(form)), "Policy saved.", client)
            or _policy_page(form, client, policy))


# ---------------------------------------------------------------- Good Faith Estimates


def _estimate_form(client: Client) -> tuple[EstimateForm, list[ServiceCode]]:
    services = db.session.scalars(select(ServiceCode).where(ServiceCode.practice_id == client.practice_id,
                                                            ServiceCode.enabled.is_(True))
                                  .order_by(ServiceCode.code)).all()
    form = EstimateForm()
    if not form.is_submitted():
        form.start.data = rules.practice_today(client.practice_id)
        form.clinician.data = str(client.primary_clinician_id or "")
        for service in services:
            form.lines.append_entry({"service_id": str(service.id), "quantity": 0, "frequency": "weekly"})
    clinicians = db.session.scalars(select(Member).where(Member.practice_id == client.practice_id,
                                                         Member.role == Role.CLINICIAN, Member.active.is_(True))
                                    .order_by(Member.name)).all()
    form.clinician.choices = [("", "The practice")] + [(str(member.id), member.name) for member in clinicians]
    return form, services


@bp.route("/<int:client_id>/good-faith-estimates/new", methods=["GET", "POST"])
@any_member
def new_estimate(client_id: int):
    """Issue a Good Faith Estimate for a client without insurance or not using it: the practice's services
    expected over up to 12 months, with their prices; it is kept as issued, PDF and all."""
    client = _client(client_id)
    form, services = _estimate_form(client)
    by_id = {str(service.id): service for service in services}
    if form.validate_on_submit():
        clinician = db.session.get(Member, int(form.clinician.data)) if (form.clinician.data or "").isdigit() \
            else None
        planned = [estimates.Planned(int(entry.service_id.data), entry.quantity.data or 0, entry.frequency.data)
                   for entry in form.lines if entry.service_id.data in by_id]
        codes = [code.strip() for code in (form.diagnoses.data or "").split(",") if code.strip()]
        try:
            with db.session.begin_nested():  # a refused estimate leaves nothing behind
                estimate = estimates.issue(current_user.practice, client, clinician, planned, codes,
                                           form.start.data, form.months.data,
                                           issued_on=rules.practice_today(client.practice_id), actor=current_user)
        except estimates.EstimateProblems as error:
            show_problems(form, {(None if name == "lines" else name): message
                                 for name, message in error.problems.items()})
        else:
            flash(f"Good Faith Estimate {estimate.content['number']} issued.", "success")
            return see_other(url_for("clients.show", client_id=client.id) + "#client-estimates")
    return render_page("clients/estimate.html", status=_form_status(), form=form, client=client, services=by_id)


@bp.route("/<int:client_id>/good-faith-estimates/<int:gfe_id>.pdf")
@any_member
def estimate_pdf(client_id: int, gfe_id: int):
    """The Good Faith Estimate exactly as it was issued."""
    client, estimate, elsewhere = _client_and(GoodFaithEstimate, client_id, gfe_id)
    if elsewhere is not None:
        return elsewhere
    return pdf_response(estimate.pdf, f"good-faith-estimate-{estimate.id}.pdf", inline=True)


@bp.route("/<int:client_id>/good-faith-estimates/<int:gfe_id>/email", methods=["POST"])
@any_member
def email_estimate(client_id: int, gfe_id: int):
    """Email the estimate, as issued, to the client's billing contact (or the client), as bills are emailed."""
    client, estimate, _ = _client_and(GoodFaithEstimate, client_id, gfe_id)
    contact = client.billing_contact
    to = (contact.email if contact else client.email) or ""
    if not to:
        flash(f"{'The billing contact' if contact else 'The client'} has no email address: add one first.", "error")
        return see_other(url_for("clients.show", client_id=client.id) + "#client-estimates")
    number = estimate.content["number"]
    mail.queue(current_user.practice, to=to, subject=f"Your Good Faith Estimate {number} from "
               f"{estimate.content['practice']['legal_name']}", template="mail/good_faith_estimate.txt",
               estimate=estimate, recipient=contact.name if contact else client.legal_name,
               attachment=(f"good-faith-estimate-{estimate.id}.pdf", estimate.pdf))
    audit.record("estimate.emailed", estimate, actor=current_user, to=to)
    flash(f"Good Faith Estimate {number} is on its way to {to}.", "success")
    return see_other(url_for("clients.show", client_id=client.id) + "#client-estimates")
