"""From bills and ledgers to the plain documents app/documents.py renders. Issued bills print the
identity they copied when they were opened; Pended bills (never shown to the client) print today's."""
from datetime import date

from sqlalchemy import select

from app import documents as docs
from app.billing import bills, dates, ledger
from app.billing.claims import primary_policy
from app.extensions import db
from app.models import Bill, Client, Practice, SessionNote


def _identity(bill: Bill) -> dict:
    return bill.issued_identity or bills._identity(bill)


def _provider(identity: dict) -> docs.ProviderIdentity:
    practice = identity["practice"]
    clinician = identity.get("clinician") or {}
    return docs.ProviderIdentity(legal_name=practice["legal_name"], tax_id=practice.get("tax_id") or "",
                                 group_npi=practice.get("group_npi") or "", taxonomy=practice.get("taxonomy") or "",
                                 address_lines=tuple(practice.get("address") or ()), phone=practice.get("phone") or "",
                                 clinician_name=clinician.get("name") or "", clinician_npi=clinician.get("npi") or "",
                                 clinician_taxonomy=clinician.get("taxonomy") or "")


def _diagnoses(bill: Bill) -> tuple[docs.Diagnosis, ...]:
    """The diagnoses the bill's sessions' signed notes supplied, principal first."""
    found: list[docs.Diagnosis] = []
    session_ids = sorted({line.session_id for line in bill.lines if line.session_id})
    for note in db.session.scalars(select(SessionNote).where(SessionNote.session_id.in_(session_ids))):
        for entry in note.signed_diagnoses or []:
            if entry["code"] not in {d.code for d in found}:
                found.append(docs.Diagnosis(entry["code"], entry.get("description", "")))
    return tuple(found[:12])


def _lines(bill: Bill, diagnoses: tuple) -> tuple[docs.DocumentLine, ...]:
    pointers = tuple(range(1, min(len(diagnoses), 4) + 1))
    return tuple(docs.DocumentLine(service_date=line.service_date, place_of_service=line.place_of_service,
                                   procedure_code=line.code, modifiers=tuple(line.modifiers), units=line.units,
                                   description=line.description, charge_cents=line.charge_cents,
                                   diagnosis_pointers=pointers) for line in bill.lines)


def _payments(bill: Bill) -> tuple[docs.PaymentEntry, ...]:
    zone_name = dates.zone_name(bill.practice_id)
    entries = [docs.PaymentEntry(dates.local_day(allocation.created_at, zone_name),
                                 f"{allocation.payment.source.capitalize()} payment ({allocation.payment.method}"
                                 f"{', ref ' + allocation.payment.reference if allocation.payment.reference else ''})"
                                 if allocation.amount_cents > 0 else "Returned to credit", allocation.amount_cents)
               for allocation in bill.allocations]
    entries += [docs.PaymentEntry(dates.local_day(adjustment.created_at, zone_name),
                                  f"{adjustment.kind.replace('_', '-').capitalize()}: {adjustment.reason}",
                                  adjustment.amount_cents) for adjustment in bill.adjustments]
    return tuple(sorted(entries, key=lambda entry: entry.entry_date))


def bill_document(bill: Bill) -> docs.BillDocument:
    identity = _identity(bill)
    totals = bills.totals(bill)
    # A bill may go to a guardian or a spouse: it says what was done and what is owed, never the diagnoses
    # (the superbill, which the client sends to an insurer, carries those).
    diagnoses = ()
    bill_to = identity["bill_to"]
    issued_on = dates.local_day(bill.issued_at, dates.zone_name(bill.practice_id)) if bill.issued_at else None
    return docs.BillDocument(
        number=bill.number, status=bill.status.capitalize(), issued_on=issued_on, due_on=bill.due_date,
        provider=_provider(identity), bill_to=docs.Party(bill_to["name"], tuple(bill_to.get("address") or ()),
                                                         email=bill_to.get("email") or ""),
        client_name=identity["client"]["name"], client_date_of_birth=date.fromisoformat(
            identity["client"]["date_of_birth"]), lines=_lines(bill, diagnoses),
        total_charges_cents=totals.charges, total_payments_cents=totals.paid,
        total_adjustments_cents=totals.adjusted, balance_cents=totals.balance, payments=_payments(bill),
        remit_to_lines=tuple(identity.get("remit_to") or ()), message=identity.get("message") or "",
        payment_terms=f"Due within {identity.get('terms_days', 30)} days of the bill date.")


def superbill_document(bill: Bill) -> docs.SuperbillDocument:
    identity = _identity(bill)
    client = bill.client
    diagnoses = _diagnoses(bill)
    policy = primary_policy(bill)
    insurance = None
    if policy is not None:
        subscriber = "" if policy.client_is_subscriber else \
            f"{policy.subscriber_first_name or ''} {policy.subscriber_last_name or ''}".strip()
        insurance = docs.InsuranceInfo(payer_name=policy.payer.name, member_id=policy.member_id,
                                       group_number=policy.group_number or "", subscriber_name=subscriber)
    totals = bills.totals(bill)
    return docs.SuperbillDocument(
        provider=_provider(identity),
        client=docs.Party(identity["client"]["name"], tuple(identity["client"].get("address") or ()),
                          phone=client.phone or ""),
        client_date_of_birth=date.fromisoformat(identity["client"]["date_of_birth"]), lines=_lines(bill, diagnoses),
        diagnoses=diagnoses, total_charges_cents=totals.charges, amount_paid_cents=totals.paid,
        issued_on=dates.practice_today(bill.practice_id), insurance=insurance, bill_number=bill.number)


def statement_document(client: Client, start: date | None, end: date | None) -> docs.StatementDocument:
    practice = db.session.get(Practice, client.practice_id)
    today = dates.today(practice.timezone)
    start = start or date(today.year, 1, 1)
    end = end or today
    rows = ledger.entries(client.id, start, end)
    opening = rows[0].balance if rows and rows[0].description == "Opening balance" else 0
    body = [row for row in rows if row.description != "Opening balance"]
    contact = client.billing_contact
    bill_to = contact or client
    address = [line for line in (bill_to.address_line1, bill_to.address_line2,
                                 f"{bill_to.city or ''}, {bill_to.state or ''} {bill_to.zip_code or ''}".strip(", "))
               if line]
    practice_address = [line for line in (practice.address_line1, practice.address_line2,
                                          f"{practice.city or ''}, {practice.state or ''} {practice.zip_code or ''}"
                                          .strip(", ")) if line]
    provider = docs.ProviderIdentity(legal_name=practice.legal_name, tax_id=practice.tax_id or "",
                                     group_npi=practice.group_npi or "", taxonomy=practice.taxonomy or "",
                                     address_lines=tuple(practice_address), phone=practice.phone or "")
    return docs.StatementDocument(
        provider=provider, period_start=start, period_end=end, issued_on=today,
        bill_to=docs.Party(contact.name if contact else client.legal_name, tuple(address), email=bill_to.email or ""),
        client_name=client.legal_name, opening_balance_cents=opening,
        entries=tuple(docs.StatementEntry(row.day, row.description, row.charge or None, row.credit or None,
                                          row.balance) for row in body),
        closing_balance_cents=body[-1].balance if body else opening,
        credit_on_account_cents=bills.client_credit(client.id),
        remit_to_lines=tuple((practice.remit_to or "").splitlines() or practice_address),
        message=practice.bill_message or "",
        services=tuple(docs.StatementService(line.service_date, line.code, line.description, line.charge,
                                             line.insurance_paid, line.adjustments, line.client_share,
                                             line.awaiting_insurance)
                       for line in ledger.service_lines(client.id, start, end)),
        aging=tuple(ledger.aging(ledger.service_lines(client.id), today)))


def bill_pdf(bill: Bill) -> bytes:
    return docs.render_bill_pdf(bill_document(bill))


def superbill_pdf(bill: Bill) -> bytes:
    return docs.render_superbill_pdf(superbill_document(bill))


def statement_pdf(client: Client, start: date | None, end: date | None) -> bytes:
    return docs.render_statement_pdf(statement_document(client, start, end))
