"""Good Faith Estimates (No Surprises Act, 45 CFR 149.610) and the watch over them.

A client without insurance, or not using it, is owed a written estimate of the charges they can expect: the
services in plain words with their expected codes, how often and how many over up to 12 months, each price,
the diagnoses when known, and who provides them (name, NPI, tax ID, address). `issue` copies all of that into
the estimate, with its PDF, so what was issued never changes when the catalog's prices or the practice's
details do. `over_estimate` finds the estimates a client's bills have passed by $400 or more: the amount from
which the client may dispute the bill (patient-provider dispute resolution). No Flask here.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import contains_eager, defer

from app import audit
from app import documents as docs
from app.billing import diagnoses
from app.extensions import db
from app.models import Bill, BillLine, BillStatus, Client, GoodFaithEstimate, Member, Practice, Role, ServiceCode

#: A bill this much above the estimate (or more) may be disputed.
DISPUTE_THRESHOLD_CENTS = 40000
MAX_MONTHS = 12
MAX_QUANTITY = 400
FREQUENCIES = {"once": "Once", "weekly": "Weekly", "every_two_weeks": "Every two weeks", "monthly": "Monthly",
               "as_needed": "As needed"}
#: Bills the client has been sent: Pended bills are not yet the client's, void ones no longer are.
BILLED_STATUSES = (BillStatus.OPEN, BillStatus.COMPLETE)


class EstimateProblems(ValueError):
    """What stops an estimate being issued, by form field."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Planned:
    """A service the client is expected to receive: how many times over the period, and how often."""
    service_id: int
    quantity: int
    frequency: str


@dataclass(frozen=True, slots=True)
class Watch:
    """An estimate whose period's bills passed it by the dispute threshold or more."""
    estimate: GoodFaithEstimate
    billed_cents: int

    @property
    def over_cents(self) -> int:
        return self.billed_cents - self.estimate.total_cents


def period_end(start: date, months: int) -> date:
    """The last day of `months` months from `start` (Dec 3 + 12 months → the next Dec 2)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date.fromordinal(date(year, month, day).toordinal() - 1)


def _address_lines(record) -> list[str]:
    city_line = f"{record.city or ''}, {record.state or ''} {record.zip_code or ''}".strip(", ")
    return [line for line in (record.address_line1, record.address_line2, city_line) if line]


def _diagnoses(codes: list[str]) -> tuple[list[dict], str | None]:
    found = []
    for code in codes:
        normalized = diagnoses.normalize(code)
        if normalized is None or not diagnoses.is_billable(normalized):
            return [], f"{code} is not a billable ICD-10-CM code."
        if normalized not in {entry["code"] for entry in found}:
            found.append({"code": normalized, "description": diagnoses.describe(normalized) or ""})
    if len(found) > 12:
        return [], "At most 12 diagnoses."
    return found, None


def issue(practice: Practice, client: Client, clinician: Member | None, planned: list[Planned],
          diagnosis_codes: list[str], start: date, months: int, *, issued_on: date,
          actor: Member | None = None) -> GoodFaithEstimate:
    """Issue an estimate: check it, copy what it prints, render and keep its PDF, audit it. Flushes, never
    commits. Raises EstimateProblems (nothing saved) when something is wrong."""
    problems: dict[str, str] = {}
    if clinician is not None and (clinician.practice_id != practice.id or clinician.role != Role.CLINICIAN):
        problems["clinician"] = "Choose one of the practice's clinicians."
    if not 1 <= months <= MAX_MONTHS:
        problems["months"] = f"An estimate covers 1 to {MAX_MONTHS} months."
    services = {service.id: service for service in db.session.scalars(select(ServiceCode).where(
        ServiceCode.practice_id == practice.id, ServiceCode.id.in_([item.service_id for item in planned])))}
    chosen = [item for item in planned if item.quantity]
    if any(item.service_id not in services or item.frequency not in FREQUENCIES
           or not 0 < item.quantity <= MAX_QUANTITY for item in chosen):
        problems["lines"] = f"Each service needs a number from 1 to {MAX_QUANTITY} and how often."
    elif not chosen:
        problems["lines"] = "Enter how many times the client is expected to receive at least one service."
    found, diagnosis_problem = _diagnoses(diagnosis_codes)
    if diagnosis_problem:
        problems["diagnoses"] = diagnosis_problem
    if problems:
        raise EstimateProblems(problems)
    end = period_end(start, months)
    lines = [{"code": services[item.service_id].code, "name": services[item.service_id].name,
              "description": services[item.service_id].description or "",
              "frequency": FREQUENCIES[item.frequency], "quantity": item.quantity,
              "unit_price_cents": services[item.service_id].price_cents,
              "total_cents": services[item.service_id].price_cents * item.quantity} for item in chosen]
    total = sum(line["total_cents"] for line in lines)
    content = {
        "issued_on": issued_on.isoformat(), "period_start": start.isoformat(), "period_end": end.isoformat(),
        "client": {"name": client.legal_name, "date_of_birth": client.date_of_birth.isoformat(),
                   "address": _address_lines(client), "email": client.email or ""},
        "practice": {"legal_name": practice.legal_name, "tax_id": practice.tax_id or "",
                     "npi": practice.group_npi or "", "taxonomy": practice.taxonomy or "",
                     "address": _address_lines(practice), "phone": practice.phone or ""},
        "clinician": {"name": clinician.name, "npi": clinician.npi or "", "taxonomy": clinician.taxonomy or ""}
        if clinician else None,
        "lines": lines, "diagnoses": found, "total_cents": total}
    estimate = GoodFaithEstimate(practice_id=practice.id, client_id=client.id,
                                 clinician_id=clinician.id if clinician else None,
                                 issued_by_id=actor.id if actor else None, period_start=start, period_end=end,
                                 total_cents=total, content=content, pdf=b"")
    db.session.add(estimate)
    db.session.flush()
    # A new dict, not the inserted one changed: the JSON column sees the number only as a new value.
    estimate.content = {**content, "number": f"GFE-{estimate.id}"}
    estimate.pdf = docs.render_estimate_pdf(document(estimate.content))
    audit.record("estimate.issued", estimate, actor=actor, client=client.id, total_cents=total,
                 period=[start.isoformat(), end.isoformat()])
    return estimate


def document(content: dict) -> docs.EstimateDocument:
    """The printable estimate from what was issued."""
    practice, clinician, client = content["practice"], content.get("clinician") or {}, content["client"]
    return docs.EstimateDocument(
        number=content["number"], issued_on=date.fromisoformat(content["issued_on"]),
        period_start=date.fromisoformat(content["period_start"]), period_end=date.fromisoformat(content["period_end"]),
        provider=docs.ProviderIdentity(legal_name=practice["legal_name"], tax_id=practice["tax_id"],
                                       group_npi=practice["npi"], taxonomy=practice["taxonomy"],
                                       address_lines=tuple(practice["address"]), phone=practice["phone"],
                                       clinician_name=clinician.get("name", ""),
                                       clinician_npi=clinician.get("npi", ""),
                                       clinician_taxonomy=clinician.get("taxonomy", "")),
        client=docs.Party(client["name"], tuple(client["address"]), email=client.get("email", "")),
        client_date_of_birth=date.fromisoformat(client["date_of_birth"]),
        lines=tuple(docs.EstimateLine(code=line["code"], name=line["name"], frequency=line["frequency"],
                                      quantity=line["quantity"], unit_price_cents=line["unit_price_cents"],
                                      total_cents=line["total_cents"]) for line in content["lines"]),
        diagnoses=tuple(docs.Diagnosis(entry["code"], entry["description"]) for entry in content["diagnoses"]),
        total_cents=content["total_cents"])


def _billed():
    """What the estimate's client was billed for services in its period (a correlated subquery)."""
    return (select(func.coalesce(func.sum(BillLine.price_cents * BillLine.units), 0))
            .join(Bill, Bill.id == BillLine.bill_id)
            .where(Bill.client_id == GoodFaithEstimate.client_id, Bill.status.in_(BILLED_STATUSES),
                   BillLine.service_date >= GoodFaithEstimate.period_start,
                   BillLine.service_date <= GoodFaithEstimate.period_end)
            .correlate(GoodFaithEstimate).scalar_subquery())


def billed_cents(estimate: GoodFaithEstimate) -> int:
    return int(db.session.scalar(select(_billed()).where(GoodFaithEstimate.id == estimate.id)))


def over_estimate(practice_id: int, *, client_id: int | None = None, visible=None) -> list[Watch]:
    """The practice's (or one client's) estimates that bills passed by the dispute threshold or more, newest
    first. `visible` is a WHERE clause on Client limiting whose estimates a member sees."""
    billed = _billed()
    query = (select(GoodFaithEstimate, billed).join(Client, Client.id == GoodFaithEstimate.client_id)
             .options(defer(GoodFaithEstimate.pdf), contains_eager(GoodFaithEstimate.client))
             .where(GoodFaithEstimate.practice_id == practice_id,
                    billed - GoodFaithEstimate.total_cents >= DISPUTE_THRESHOLD_CENTS)
             .order_by(GoodFaithEstimate.id.desc()))
    if client_id is not None:
        query = query.where(GoodFaithEstimate.client_id == client_id)
    if visible is not None:
        query = query.where(and_(visible))
    return [Watch(estimate, int(amount)) for estimate, amount in db.session.execute(query).all()]
