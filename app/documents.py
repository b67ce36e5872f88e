"""PDF documents (bill, superbill, statement) rendered from plain data.

Nothing here touches the database or a Flask request: a view or a worker job copies what a document
prints into the frozen dataclasses below (an issued bill prints the identity it copied when it was
issued), and the render functions turn them into PDF bytes with a standalone Jinja environment and
WeasyPrint. WeasyPrint gets no base URL and a fetcher that refuses everything but `data:` URIs, so a
template (or text a client typed) can never make the server fetch a URL or read a local file.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import weasyprint
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from weasyprint.urls import URLFetcher

from app.billing.identity import digits_only
from app.billing.places import PLACES_OF_SERVICE

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).parent / "templates" / "documents"

PLACE_OF_SERVICE_NAMES = PLACES_OF_SERVICE

#: Plain-word names of the NUCC taxonomy codes therapists use (shared/domain.md), printed beside the code.
TAXONOMY_NAMES = {
    "101YM0800X": "Mental health counselor",
    "101YP2500X": "Professional counselor",
    "101YA0400X": "Addiction counselor",
    "103T00000X": "Psychologist",
    "103TC0700X": "Clinical psychologist",
    "1041C0700X": "Clinical social worker",
    "106H00000X": "Marriage and family therapist",
    "103K00000X": "Behavior analyst",
    "2084P0800X": "Psychiatry",
    "363LP0808X": "Psychiatric nurse practitioner",
    "261QM0801X": "Mental health clinic",
}


# ---------------------------------------------------------------- what documents print


def _as_tuples(instance, *names: str) -> None:
    """Let callers pass lists while the frozen document keeps immutable tuples."""
    for name in names:
        object.__setattr__(instance, name, tuple(getattr(instance, name)))


@dataclass(frozen=True, slots=True)
class Party:
    """Someone a document is addressed to: the client, or a guardian / billing contact."""
    name: str
    address_lines: tuple[str, ...] = ()
    phone: str = ""
    email: str = ""

    def __post_init__(self) -> None:
        _as_tuples(self, "address_lines")


@dataclass(frozen=True, slots=True)
class ProviderIdentity:
    """The practice (billing provider) and the clinician who rendered the services, as issued."""
    legal_name: str
    tax_id: str  #: EIN digits (12-3456789 or 123456789); an SSN when tax_id_is_ssn
    group_npi: str = ""  #: type 2 NPI; empty for a solo clinician billing under their own NPI
    taxonomy: str = ""
    address_lines: tuple[str, ...] = ()
    phone: str = ""
    clinician_name: str = ""
    clinician_npi: str = ""
    clinician_taxonomy: str = ""
    tax_id_is_ssn: bool = False

    def __post_init__(self) -> None:
        _as_tuples(self, "address_lines")


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """An ICD-10-CM diagnosis, code written with its dot (F41.1)."""
    code: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class DocumentLine:
    """One service line. Diagnosis pointers are 1-based positions in the document's diagnoses."""
    service_date: date
    place_of_service: str
    procedure_code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    description: str = ""
    charge_cents: int = 0
    diagnosis_pointers: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        _as_tuples(self, "modifiers", "diagnosis_pointers")


@dataclass(frozen=True, slots=True)
class PaymentEntry:
    """A payment or adjustment shown on a bill; a positive amount is a credit to the client."""
    entry_date: date
    description: str  #: "Card payment (ref 1234)", "Insurance payment", "Adjustment: courtesy"
    amount_cents: int


@dataclass(frozen=True, slots=True)
class InsuranceInfo:
    """The client's insurance, printed on a superbill so the insurer can match the claim."""
    payer_name: str
    member_id: str = ""
    group_number: str = ""
    subscriber_name: str = ""  #: empty when the client is the subscriber


@dataclass(frozen=True, slots=True)
class BillDocument:
    """A bill as it prints. Totals are copied from the bill, never recomputed here."""
    number: str
    status: str  #: pended, open, complete or void (any case; a BillStatus works)
    issued_on: date | None
    due_on: date | None
    provider: ProviderIdentity
    bill_to: Party
    client_name: str
    client_date_of_birth: date | None
    lines: tuple[DocumentLine, ...]
    total_charges_cents: int
    total_payments_cents: int
    total_adjustments_cents: int
    balance_cents: int
    diagnoses: tuple[Diagnosis, ...] = ()
    payments: tuple[PaymentEntry, ...] = ()
    remit_to_lines: tuple[str, ...] = ()
    message: str = ""
    payment_terms: str = ""  #: "Due within 30 days of the bill date."

    def __post_init__(self) -> None:
        _as_tuples(self, "lines", "diagnoses", "payments", "remit_to_lines")


@dataclass(frozen=True, slots=True)
class SuperbillDocument:
    """The itemized statement a self-pay client sends their insurer (shared/domain.md, Bills)."""
    provider: ProviderIdentity
    client: Party  #: legal name, address and phone
    client_date_of_birth: date
    lines: tuple[DocumentLine, ...]
    diagnoses: tuple[Diagnosis, ...]  #: from the signed session note, in pointer order
    total_charges_cents: int
    amount_paid_cents: int
    issued_on: date
    insurance: InsuranceInfo | None = None
    bill_number: str = ""

    def __post_init__(self) -> None:
        _as_tuples(self, "lines", "diagnoses")

    @property
    def dates_of_service(self) -> tuple[date, ...]:
        return tuple(sorted({line.service_date for line in self.lines}))

    @property
    def balance_cents(self) -> int:
        return self.total_charges_cents - self.amount_paid_cents


@dataclass(frozen=True, slots=True)
class StatementEntry:
    """One row of a statement: a charge or a credit, and the balance after it."""
    entry_date: date
    description: str
    charge_cents: int | None
    credit_cents: int | None
    balance_cents: int


@dataclass(frozen=True, slots=True)
class StatementService:
    """One service line on a statement: its charge, insurance's payment, adjustments and the client's share."""
    service_date: date
    code: str
    description: str
    charge_cents: int
    insurance_paid_cents: int
    adjustments_cents: int
    client_share_cents: int
    #: Insurance has not decided this service yet: the client's share is not owed (shown as awaiting insurance).
    awaiting_insurance: bool = False


@dataclass(frozen=True, slots=True)
class StatementDocument:
    """A client's account activity over a period, with the balance running row by row."""
    provider: ProviderIdentity
    period_start: date
    period_end: date
    issued_on: date
    bill_to: Party
    client_name: str
    opening_balance_cents: int
    entries: tuple[StatementEntry, ...]
    closing_balance_cents: int
    credit_on_account_cents: int = 0
    remit_to_lines: tuple[str, ...] = ()
    message: str = ""
    #: The services of the period, one row per line, with their totals; the client's balance by age.
    services: tuple[StatementService, ...] = ()
    aging: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        _as_tuples(self, "entries", "remit_to_lines", "services", "aging")

    def services_total(self, field_name: str) -> int:
        return sum(getattr(service, field_name) for service in self.services)

    @property
    def total_charges_cents(self) -> int:
        return sum(entry.charge_cents or 0 for entry in self.entries)

    @property
    def total_credits_cents(self) -> int:
        return sum(entry.credit_cents or 0 for entry in self.entries)


@dataclass(frozen=True, slots=True)
class EstimateLine:
    """A service a Good Faith Estimate expects: how often, how many times, at what price each."""
    code: str
    name: str
    frequency: str
    quantity: int
    unit_price_cents: int
    total_cents: int


@dataclass(frozen=True, slots=True)
class EstimateDocument:
    """A Good Faith Estimate as issued (No Surprises Act): printed from what the estimate stored."""
    number: str
    issued_on: date
    period_start: date
    period_end: date
    provider: ProviderIdentity
    client: Party
    client_date_of_birth: date
    lines: tuple[EstimateLine, ...]
    diagnoses: tuple[Diagnosis, ...]
    total_cents: int

    def __post_init__(self) -> None:
        _as_tuples(self, "lines", "diagnoses")


@dataclass(frozen=True, slots=True)
class FormField:
    """A value printed on a grid form (the CMS-1500): its box, its line (6 to the inch, from 1 at the top) and
    column (10 to the inch, from 1 at the left)."""
    box: str
    line: int
    col: int
    text: str


@dataclass(frozen=True, slots=True)
class FormSheet:
    """One page of a grid form: page `page` of `pages` for the claim `reference`."""
    reference: str
    page: int
    pages: int
    fields: tuple[FormField, ...]

    def __post_init__(self) -> None:
        _as_tuples(self, "fields")


# ---------------------------------------------------------------- formatting, for the templates only


def money(cents: int | None) -> str:
    """1234567 → $12,345.67; negative amounts keep their sign (-$20.00)."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}${whole:,}.{part:02d}"


def long_date(value: date | str | None) -> str:
    """Nov 23, 2026 (an ISO string, as JSON snapshots hold dates, is accepted too)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value:%b} {value.day}, {value.year}"


def short_date(value: date | None) -> str:
    """11/23/2026, the form insurers expect in a service line."""
    return f"{value:%m/%d/%Y}" if value else ""


def tax_id(value: str, is_ssn: bool = False) -> str:
    """An EIN as 12-3456789, an SSN as 123-45-6789; anything else as typed."""
    digits = digits_only(value)
    if len(digits) != 9:
        return value or ""
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}" if is_ssn else f"{digits[:2]}-{digits[2:]}"


def phone(value: str | None) -> str:
    """(617) 555-0142 for a 10-digit US number; anything else as typed."""
    digits = digits_only(value or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return value or ""


_TRAILING_ZIP9 = re.compile(r"\b(\d{5})-?(\d{4})\s*$")


def address_line(value: str) -> str:
    """Write a trailing ZIP+4 as 02139-4307 ('Cambridge, MA 021394307' is how snapshots store it)."""
    return _TRAILING_ZIP9.sub(r"\1-\2", value or "")


def taxonomy(code: str) -> str:
    """101YM0800X (Mental health counselor)."""
    if not code:
        return ""
    name = TAXONOMY_NAMES.get(code)
    return f"{code} ({name})" if name else code


def place_of_service(code: str) -> str:
    """10 – Telehealth, client at home."""
    name = PLACE_OF_SERVICE_NAMES.get(code)
    return f"{code} – {name}" if name else code


def pointer_letter(position: int) -> str:
    """1 → A, 2 → B … as the CMS-1500 labels diagnoses (A–L)."""
    return chr(ord("A") + position - 1) if 1 <= position <= 26 else str(position)


def pointer_letters(pointers: tuple[int, ...]) -> str:
    return " ".join(pointer_letter(pointer) for pointer in pointers)


# ---------------------------------------------------------------- rendering


class UrlRefused(ValueError):
    """A document tried to load something other than a data: URI."""


class DataUriOnlyFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves `data:` URIs and refuses every other URL (http, https,
    file, ftp …): documents carry their styles inline, so any other fetch is a bug or an attack."""

    def __init__(self) -> None:
        super().__init__(timeout=1, allowed_protocols=("data",), allow_redirects=False)

    def fetch(self, url: str, headers=None):
        if not url.lower().startswith("data:"):
            log.warning("Document rendering refused to fetch %.100s", url)
            raise UrlRefused(f"Documents may only load data: URIs, not {url[:100]}")
        return super().fetch(url, headers)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja environment for documents: standalone, so a worker renders without Flask."""
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=money, long_date=long_date, short_date=short_date, tax_id=tax_id, phone=phone,
                       address_line=address_line, taxonomy=taxonomy, place_of_service=place_of_service,
                       pointer_letter=pointer_letter, pointer_letters=pointer_letters)
    return env


def render_html(template_name: str, **context) -> str:
    """The document's HTML, for debugging and for tests that check markup rather than the PDF."""
    return environment().get_template(template_name).render(**context)


def html_to_pdf(html: str) -> bytes:
    """HTML → PDF with no base URL and a fetcher that only serves data: URIs."""
    # A new fetcher per document: URLFetcher keeps per-request state and is not safe to share
    # across threads.
    return weasyprint.HTML(string=html, base_url=None, url_fetcher=DataUriOnlyFetcher()).write_pdf()


def render_bill_pdf(doc: BillDocument) -> bytes:
    """The bill a client (or their billing contact) receives."""
    if not isinstance(doc, BillDocument):
        raise TypeError(f"render_bill_pdf needs a BillDocument, not {type(doc).__name__}")
    return html_to_pdf(render_html("bill.html", doc=doc))


def render_superbill_pdf(doc: SuperbillDocument) -> bytes:
    """The superbill a self-pay client submits to their insurer for reimbursement."""
    if not isinstance(doc, SuperbillDocument):
        raise TypeError(f"render_superbill_pdf needs a SuperbillDocument, not {type(doc).__name__}")
    return html_to_pdf(render_html("superbill.html", doc=doc))


def render_statement_pdf(doc: StatementDocument) -> bytes:
    """A client's statement of account for a period."""
    if not isinstance(doc, StatementDocument):
        raise TypeError(f"render_statement_pdf needs a StatementDocument, not {type(doc).__name__}")
    return html_to_pdf(render_html("statement.html", doc=doc))


def render_estimate_pdf(doc: EstimateDocument) -> bytes:
    """A Good Faith Estimate for a client without insurance or not using it."""
    if not isinstance(doc, EstimateDocument):
        raise TypeError(f"render_estimate_pdf needs an EstimateDocument, not {type(doc).__name__}")
    return html_to_pdf(render_html("good_faith_estimate.html", doc=doc))


#: The grid of the CMS-1500 form, in points: 10 columns and 6 lines to the inch, from where column 1, line 1 sits.
FORM_COLUMN_PT = 7.2
FORM_LINE_PT = 12.0
FORM_ORIGIN_PT = (24.0, 20.0)
MM_PT = 72 / 25.4


def render_cms1500_pdf(sheets: list[FormSheet], *, boxes, checks, letters=(), full: bool,
                       offset_mm: tuple[float, float] = (0.0, 0.0)) -> bytes:
    """CMS-1500 pages: with `full`, the form's boxes and labels are drawn around the data; without, only the data
    prints, moved by `offset_mm` (right, down) to meet the red pre-printed form in the practice's printer."""
    if not sheets:
        raise ValueError("a CMS-1500 PDF needs at least one page")
    origin = (FORM_ORIGIN_PT[0] + offset_mm[0] * MM_PT, FORM_ORIGIN_PT[1] + offset_mm[1] * MM_PT)
    return html_to_pdf(render_html("cms1500.html", sheets=sheets, boxes=boxes if full else (),
                                   checks=checks if full else (), letters=letters if full else (), full=full,
                                   origin=origin, column=FORM_COLUMN_PT, line=FORM_LINE_PT))
