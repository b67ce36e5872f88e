"""Clients, their contacts, the practice's payers and clients' insurance policies: the rules.

Values arrive as {column: value} (a form's data, the demo seed, a CLI) and are cleaned here. Every
problem a person can fix is collected as {field: message} before anything changes, so a form shows all
its problems at once and a refused change saves nothing. Functions flush and audit; the caller's
transaction (the request wrapper, a CLI command or a job) commits.
"""
from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select

from app import audit
from app.billing.dates import practice_today
from app.billing.identity import digits_only
from app.extensions import db
from app.models import (Client, Contact, InsurancePolicy, Member, Payer, Practice, Role, Sex,
                        SubscriberRelationship)

#: X12 SBR09, the claim filing indicator: what kind of plan the payer runs.
FILING_INDICATORS = {
    "CI": "Commercial insurance",
    "MB": "Medicare Part B",
    "MC": "Medicaid",
    "BL": "Blue Cross/Blue Shield",
    "HM": "HMO",
    "CH": "TRICARE (CHAMPUS)",
    "VA": "Veterans Affairs plan",
    "11": "Other non-federal program",
    "12": "Preferred provider organization (PPO)",
    "13": "Point of service (POS)",
    "14": "Exclusive provider organization (EPO)",
    "15": "Indemnity insurance",
    "16": "HMO Medicare Advantage",
    "17": "Dental maintenance organization",
    "WC": "Workers' compensation",
    "ZZ": "Unknown (mutually defined)",
}
#: The modifier a payer wants on video sessions ("" for none). GT is obsolete for most professional claims.
TELEHEALTH_MODIFIERS = {"95": "95 · audio and video", "GT": "GT · older payers", "": "None"}
AUDIO_ONLY_MODIFIERS = {"93": "93 · audio only", "": "None"}
SEXES = {Sex.FEMALE.value: "Female", Sex.MALE.value: "Male", Sex.UNKNOWN.value: "Unknown"}
RELATIONS = {"guardian": "Guardian", "parent": "Parent", "spouse": "Spouse", "emergency": "Emergency contact",
             "other": "Other"}
PRIORITIES = {1: "Primary", 2: "Secondary", 3: "Tertiary"}
#: The client's relationship to the policy's subscriber, as X12 codes it.
SUBSCRIBER_RELATIONSHIPS = {
    SubscriberRelationship.SELF.value: "The client is the subscriber",
    SubscriberRelationship.SPOUSE.value: "Spouse of the subscriber",
    SubscriberRelationship.CHILD.value: "Child of the subscriber",
    SubscriberRelationship.OTHER.value: "Other relationship to the subscriber",
}
ADULT_AGE = 18
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

ADDRESS = ("address_line1", "address_line2", "city", "state", "zip_code")
PAYER_FIELDS = ("name", "clearinghouse_payer_id", "filing_indicator", "telehealth_modifier", "audio_only_modifier",
                *ADDRESS)
CLIENT_FIELDS = ("first_name", "middle_name", "last_name", "preferred_name", "date_of_birth", "sex", *ADDRESS,
                 "phone", "email", "primary_clinician_id")
CONTACT_FIELDS = ("name", "relation", "is_billing_contact", "phone", "email", *ADDRESS)
SUBSCRIBER_FIELDS = ("subscriber_first_name", "subscriber_last_name", "subscriber_date_of_birth", "subscriber_sex",
                     *(f"subscriber_{part}" for part in ADDRESS))
POLICY_FIELDS = ("payer_id", "member_id", "group_number", "priority", "copay_cents", "effective_date", "end_date",
                 "relationship_to_subscriber", *SUBSCRIBER_FIELDS)

#: The parts a mailing address cannot do without, and how a message names them.
_ADDRESS_PARTS = {"address_line1": "street address", "city": "city", "state": "state", "zip_code": "ZIP code"}


class ClientProblems(Exception):
    """What is wrong with a change, keyed by form field; nothing was saved."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{key}: {message}" for key, message in problems.items()))
        self.problems = problems


def _raise_any(problems: dict[str, str]) -> None:
    if problems:
        raise ClientProblems(problems)


def _cleaned(values: dict, fields: Iterable[str]) -> dict:
    """The named fields: text stripped (empty text is None), phones and ZIP codes as digits, states upper-cased."""
    cleaned = {}
    for field in fields:
        value = values.get(field)
        if isinstance(value, str):
            value = value.strip() or None
            if value and field.endswith(("phone", "zip_code")):
                value = digits_only(value)
            elif value and field.endswith("state"):
                value = value.upper()
        cleaned[field] = value
    return cleaned


def _json(value):
    return value.isoformat() if isinstance(value, date) else value


def _save(action: str, record, values: dict) -> dict:
    """Apply the values and audit what changed as {field: [old, new]}."""
    changed = audit.apply_changes(record, values)
    if changed:
        audit.record(action, record, **{field: [_json(old), _json(new)] for field, (old, new) in changed.items()})
    return changed


def _address_problems(values: dict, prefix: str = "", *, whose: str = "") -> dict[str, str]:
    """A mailing address is whole or absent; with `whose` ("the subscriber's") it is required."""
    keys = {prefix + part: label for part, label in _ADDRESS_PARTS.items()}
    if not whose and not any(values.get(prefix + part) for part in ADDRESS):
        return {}
    reason = "" if whose else ": a mailing address needs a street, city, state and ZIP code"
    return {key: f"Enter {whose or 'the'} {label}{reason}." for key, label in keys.items() if not values.get(key)}


def _birth_date_problem(born: date | None, today: date) -> str | None:
    if born and born > today:
        return "A date of birth cannot be in the future."
    if born and born < EARLIEST_BIRTH_DATE:
        return "Check the year: that date of birth is before 1900."
    return None




# ---------------------------------------------------------------- payers


def _payer_values(values: dict) -> dict:
    cleaned = _cleaned(values, PAYER_FIELDS)
    cleaned["clearinghouse_payer_id"] = (cleaned["clearinghouse_payer_id"] or "").upper()
    for field in ("telehealth_modifier", "audio_only_modifier"):  # "" means the payer wants none
        cleaned[field] = cleaned[field] or ""
    return cleaned


def _payer_problems(practice_id: int, values: dict, editing: Payer | None = None) -> dict[str, str]:
    problems = {}
    name = values["name"] or ""
    same_name = select(Payer.id).where(Payer.practice_id == practice_id, func.lower(Payer.name) == name.lower())
    if editing is not None:
        same_name = same_name.where(Payer.id != editing.id)
    if not name:
        problems["name"] = "Enter the payer's name."
    elif db.session.scalar(same_name.limit(1)) is not None:
        problems["name"] = f"{name} is already one of your payers."
    if values["filing_indicator"] not in FILING_INDICATORS:
        problems["filing_indicator"] = "Choose the kind of plan from the list."
    if values["telehealth_modifier"] not in TELEHEALTH_MODIFIERS:
        problems["telehealth_modifier"] = "Choose 95, GT or none."
    if values["audio_only_modifier"] not in AUDIO_ONLY_MODIFIERS:
        problems["audio_only_modifier"] = "Choose 93 or none."
    return problems | _address_problems(values)


def add_payer(practice: Practice, values: dict) -> Payer:
    """Add an insurance company as the practice's clearinghouse knows it."""
    values = _payer_values(values)
    _raise_any(_payer_problems(practice.id, values))
    payer = Payer(practice_id=practice.id, **values)
    db.session.add(payer)
    db.session.flush()
    audit.record("payer.added", payer, name=payer.name, payer_id=payer.clearinghouse_payer_id,
                 filing_indicator=payer.filing_indicator)
    return payer


def update_payer(payer: Payer, values: dict) -> dict:
    """Change a payer; claims already built keep the payer details they copied."""
    values = _payer_values(values)
    _raise_any(_payer_problems(payer.practice_id, values, editing=payer))
    return _save("payer.updated", payer, values)


# ---------------------------------------------------------------- clients


def is_active_clinician(practice_id: int, member_id: int | None) -> bool:
    return db.session.scalar(select(Member.id).where(
        Member.id == member_id, Member.practice_id == practice_id, Member.role == Role.CLINICIAN,
        Member.active.is_(True))) is not None


def _client_problems(practice_id: int, values: dict, editing: Client | None = None) -> dict[str, str]:
    problems = {}
    for field, label in (("first_name", "first name"), ("last_name", "last name")):
        if not values[field]:
            problems[field] = f"Enter the client's legal {label}."
    if values["date_of_birth"] is None:
        problems["date_of_birth"] = "Enter the date of birth."
    elif problem := _birth_date_problem(values["date_of_birth"], practice_today(practice_id)):
        problems["date_of_birth"] = problem
    if values["sex"] not in SEXES:
        problems["sex"] = "Choose female, male or unknown."
    clinician_id = values["primary_clinician_id"]
    unchanged = editing is not None and clinician_id == editing.primary_clinician_id
    if clinician_id is not None and not unchanged and not is_active_clinician(practice_id, clinician_id):
        problems["primary_clinician_id"] = "Choose one of the practice's active clinicians."
    return problems | _address_problems(values)


def _client_values(values: dict, by: Member, editing: Client | None = None) -> dict:
    """A clinician's clients are their own: one who adds a client becomes its primary clinician, and
    only admins and billers move a client to another clinician."""
    cleaned = _cleaned(values, CLIENT_FIELDS)
    if by.role == Role.CLINICIAN:
        cleaned["primary_clinician_id"] = editing.primary_clinician_id if editing else by.id
    if cleaned["email"]:
        cleaned["email"] = cleaned["email"].lower()
    return cleaned


def add_client(practice: Practice, values: dict, *, by: Member) -> Client:
    """Add a client; a clinician who adds one becomes its primary clinician."""
    values = _client_values(values, by)
    _raise_any(_client_problems(practice.id, values))
    client = Client(practice_id=practice.id, **values)
    db.session.add(client)
    db.session.flush()
    audit.record("client.added", client, primary_clinician_id=client.primary_clinician_id)
    return client


def update_client(client: Client, values: dict, *, by: Member) -> dict:
    """Change a client's identity, contact details or primary clinician."""
    values = _client_values(values, by, editing=client)
    _raise_any(_client_problems(client.practice_id, values, editing=client))
    return _save("client.updated", client, values)


def is_minor(client: Client, today: date) -> bool:
    return client.age_on(today) < ADULT_AGE


def needs_billing_contact(client: Client, today: date) -> bool:
    """A minor with no billing contact: bills would go to the child."""
    return is_minor(client, today) and client.billing_contact is None


# ---------------------------------------------------------------- contacts


def _contact_problems(values: dict) -> dict[str, str]:
    problems = {}
    if not values["name"]:
        problems["name"] = "Enter the contact's name."
    if values["relation"] not in RELATIONS:
        problems["relation"] = "Choose guardian, parent, spouse, emergency contact or other."
    problems |= _address_problems(values)
    if values["is_billing_contact"] and not values["email"] and not values["address_line1"]:
        problems["is_billing_contact"] = ("Bills and statements need a way to reach the billing contact: "
                                          "enter an email or a mailing address.")
    return problems


def _only_billing_contact(contact: Contact) -> None:
    """Bills go to one person: making this contact the billing contact stops the others being it."""
    if not contact.is_billing_contact:
        return
    others = db.session.scalars(select(Contact).where(Contact.client_id == contact.client_id,
                                                      Contact.id != contact.id,
                                                      Contact.is_billing_contact.is_(True))).all()
    for other in others:
        _save("contact.updated", other, {"is_billing_contact": False})


def add_contact(client: Client, values: dict) -> Contact:
    """Add a guardian, parent, spouse or emergency contact; at most one receives the bills."""
    values = _cleaned(values, CONTACT_FIELDS)
    values["is_billing_contact"] = bool(values["is_billing_contact"])
    _raise_any(_contact_problems(values))
    contact = Contact(practice_id=client.practice_id, client_id=client.id, **values)
    db.session.add(contact)
    db.session.flush()
    audit.record("contact.added", contact, client_id=client.id, relation=contact.relation,
                 is_billing_contact=contact.is_billing_contact)
    _only_billing_contact(contact)
    db.session.expire(client, ["contacts"])
    return contact


def update_contact(contact: Contact, values: dict) -> dict:
    values = _cleaned(values, CONTACT_FIELDS)
    values["is_billing_contact"] = bool(values["is_billing_contact"])
    _raise_any(_contact_problems(values))
    changed = _save("contact.updated", contact, values)
    _only_billing_contact(contact)
    db.session.expire(contact.client, ["contacts"])
    return changed


# ---------------------------------------------------------------- insurance policies


def _overlaps(policy: InsurancePolicy, start: date, end: date | None) -> bool:
    return policy.effective_date <= (end or date.max) and start <= (policy.end_date or date.max)


def _coverage(start: date, end: date | None) -> str:
    return f"from {start:%b %-d, %Y}" + (f" to {end:%b %-d, %Y}" if end else "")


def _policy_problems(client: Client, values: dict, editing: InsurancePolicy | None = None) -> dict[str, str]:
    problems = {}
    payer = db.session.get(Payer, values["payer_id"]) if values["payer_id"] else None
    if payer is None or payer.practice_id != client.practice_id:
        problems["payer_id"] = "Choose one of the practice's payers."
    if not values["member_id"]:
        problems["member_id"] = "Enter the member ID from the insurance card."
    if values["priority"] not in PRIORITIES:
        problems["priority"] = "Choose primary, secondary or tertiary."
    if values["copay_cents"] < 0:
        problems["copay"] = "The copay cannot be negative."
    start, end = values["effective_date"], values["end_date"]
    if start is None:
        problems["effective_date"] = "Enter the date the coverage starts."
    elif end is not None and end < start:
        problems["end_date"] = "The end date cannot be before the effective date."
    elif values["priority"] in PRIORITIES:
        for other in client.policies:
            if other is not editing and other.priority == values["priority"] and _overlaps(other, start, end):
                label = PRIORITIES[other.priority].lower()
                problems["priority"] = (f"{other.payer.name} is already the {label} policy "
                                        f"{_coverage(other.effective_date, other.end_date)}: give that policy an "
                                        "end date first, or choose another priority.")
                break
    relationship = values["relationship_to_subscriber"]
    if relationship not in SUBSCRIBER_RELATIONSHIPS:
        problems["relationship_to_subscriber"] = "Choose who the subscriber is."
    elif relationship != SubscriberRelationship.SELF:
        problems |= _subscriber_problems(client, values)
    return problems


def _subscriber_problems(client: Client, values: dict) -> dict[str, str]:
    """When the client is not the subscriber, the claim carries the subscriber's own identity."""
    problems = {field: f"Enter the subscriber's {label}." for field, label in (
        ("subscriber_first_name", "first name"), ("subscriber_last_name", "last name"),
        ("subscriber_date_of_birth", "date of birth")) if not values[field]}
    if values["subscriber_sex"] not in SEXES:
        problems["subscriber_sex"] = "Choose the subscriber's sex."
    if problem := _birth_date_problem(values["subscriber_date_of_birth"], practice_today(client.practice_id)):
        problems["subscriber_date_of_birth"] = problem
    return problems | _address_problems(values, "subscriber_", whose="the subscriber's")


def _policy_values(values: dict) -> dict:
    cleaned = _cleaned(values, POLICY_FIELDS)
    cleaned["copay_cents"] = 0 if cleaned["copay_cents"] is None else cleaned["copay_cents"]
    if cleaned["relationship_to_subscriber"] == SubscriberRelationship.SELF:
        cleaned |= dict.fromkeys(SUBSCRIBER_FIELDS)  # the claim takes the client's own details
    return cleaned


def add_policy(client: Client, values: dict) -> InsurancePolicy:
    """Add a policy; two policies of one priority may not cover the same day."""
    values = _policy_values(values)
    _raise_any(_policy_problems(client, values))
    policy = InsurancePolicy(practice_id=client.practice_id, client_id=client.id, **values)
    db.session.add(policy)
    db.session.flush()
    audit.record("policy.added", policy, client_id=client.id, payer_id=policy.payer_id, priority=policy.priority,
                 effective_date=_json(policy.effective_date), end_date=_json(policy.end_date))
    db.session.expire(client, ["policies"])
    return policy


def update_policy(policy: InsurancePolicy, values: dict) -> dict:
    """Change a policy; claims already built keep the subscriber and payer details they copied."""
    values = _policy_values(values)
    _raise_any(_policy_problems(policy.client, values, editing=policy))
    return _save("policy.updated", policy, values)
