"""Clients: the list and search, each client's overview, sessions, billing and insurance, contacts."""
from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import selectinload

from app import access
from app.authz import any_member, load
from app.billing import clients as rules
from app.billing.clients import ClientProblems
from app.billing.money import dollars
from app.blueprints.clients.forms import ClientForm, ClientSearchForm, ContactForm, PolicyForm
from app.extensions import db
from app.forms import show_problems
from app.models import Claim, Client, Contact, InsurancePolicy, Member, Payer, Role, TherapySession
from app.rendering import render_page, see_other

bp = Blueprint("clients", __name__, url_prefix="/clients")
#: The most recent sessions the client page lists.
SESSIONS_SHOWN = 100
#: The most recent claims the client page lists (the claims page has them all, by client).
CLAIMS_SHOWN = 50
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
    claims = db.session.scalars(
        select(Claim).where(access.claim_filter(current_user), Claim.client_id == client.id)
        .options(selectinload(Claim.payer)).order_by(Claim.service_date.desc(), Claim.id.desc())
        .limit(CLAIMS_SHOWN)).all()
    today = rules.practice_today(client.practice_id)
    return render_page("clients/show.html", client=client, sessions=sessions, claims=claims, today=today,
                       needs_billing_contact=rules.needs_billing_contact(client, today),
                       sees_account=access.sees_account(current_user, client), **LABELS)


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
