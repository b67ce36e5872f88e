"""The paper claim: a claim printed on the NUCC 1500 Health Insurance Claim Form (02/12), box by box as the
NUCC 1500 Reference Instruction Manual asks.

What it prints comes from the same `x12.Claim` the 837P writer sends (`claims.to_x12_claim`, built from the
claim's snapshot), so paper and electronic claims agree. The form is laid out on the grid its red OCR
version is printed on (10 characters to the inch across, 6 lines to the inch down): each value has a line and a
column, and `documents.render_cms1500_pdf` places it there, with or without the form's boxes and labels, shifted
by the practice's alignment offset for its printer.

A claim with more than six service lines prints on as many forms as it needs, six lines each; the total
charge (28) and the amount paid (29) are on the last one, the earlier ones say CONTINUED.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app import documents as docs
from app.billing.claims import to_x12_claim, x12_billing_provider
from app.billing.identity import digits_only
from app.extensions import db
from app.models import Claim, InsurancePolicy, Practice
from app.x12 import claim_data as x12

LINES_PER_FORM = 6
#: Box 1 by the 837P claim filing indicator (SBR09): the program the form is for.
PROGRAM_COLUMNS = {"medicare": 1, "medicaid": 8, "tricare": 15, "champva": 24, "group": 31, "feca": 39, "other": 45}
PROGRAMS = {"MA": "medicare", "MB": "medicare", "MC": "medicaid", "CH": "tricare", "VA": "champva", "FI": "feca",
            "CI": "group", "BL": "group", "HM": "group", "12": "group", "13": "group", "14": "group", "15": "group",
            "16": "group", "17": "group", "11": "other"}
#: Box 6 by the patient's relationship to the insured (X12 codes: 18 self, 01 spouse, 19 child).
RELATIONSHIP_COLUMNS = {"18": 33, "01": 38, "19": 42}
OTHER_RELATIONSHIP_COLUMN = 47
RESUBMISSION_CODES = {x12.FREQUENCY_REPLACEMENT, x12.FREQUENCY_VOID}


class NotPrintable(ValueError):
    """The claim lacks what the form needs (it would not make an 837P either)."""


# ---------------------------------------------------------------- the form's layout (drawn in the full form)


@dataclass(frozen=True, slots=True)
class Box:
    """A box of the form: its label, the line its data sits on, and its size in grid columns and lines."""
    number: str
    label: str
    line: int
    col: int
    cols: int
    lines: int = 2


@dataclass(frozen=True, slots=True)
class Check:
    """A check box; its caption prints above it."""
    line: int
    col: int
    caption: str


RIGHT = 49  # the right half of the form starts here
RIGHT_COLS = 32
BOXES: tuple[Box, ...] = (
    Box("carrier", "PAYER (CARRIER) NAME AND ADDRESS", 5, 41, 40, 5),
    Box("1", "1. MEDICARE · MEDICAID · TRICARE · CHAMPVA · GROUP HEALTH PLAN · FECA BLK LUNG · OTHER", 8, 1, 48),
    Box("1a", "1a. INSURED'S I.D. NUMBER (For Program in Item 1)", 8, RIGHT, RIGHT_COLS),
    Box("2", "2. PATIENT'S NAME (Last Name, First Name, Middle Initial)", 10, 1, 29),
    Box("3", "3. PATIENT'S BIRTH DATE (MM DD YY) · SEX", 10, 30, 19),
    Box("4", "4. INSURED'S NAME (Last Name, First Name, Middle Initial)", 10, RIGHT, RIGHT_COLS),
    Box("5", "5. PATIENT'S ADDRESS (No., Street)", 12, 1, 29),
    Box("6", "6. PATIENT RELATIONSHIP TO INSURED", 12, 30, 19),
    Box("7", "7. INSURED'S ADDRESS (No., Street)", 12, RIGHT, RIGHT_COLS),
    Box("5c", "CITY", 14, 1, 24), Box("5s", "STATE", 14, 25, 5),
    Box("8", "8. RESERVED FOR NUCC USE", 16, 30, 19, 4),
    Box("7c", "CITY", 14, RIGHT, 24), Box("7s", "STATE", 14, RIGHT + 24, RIGHT_COLS - 24),
    Box("5z", "ZIP CODE", 16, 1, 13), Box("5t", "TELEPHONE (Include Area Code)", 16, 14, 16),
    Box("7z", "ZIP CODE", 16, RIGHT, 15), Box("7t", "TELEPHONE (Include Area Code)", 16, RIGHT + 15, RIGHT_COLS - 15),
    Box("9", "9. OTHER INSURED'S NAME (Last Name, First Name, Middle Initial)", 18, 1, 29),
    Box("10", "10. IS PATIENT'S CONDITION RELATED TO:", 18, 30, 19),
    Box("11", "11. INSURED'S POLICY GROUP OR FECA NUMBER", 18, RIGHT, RIGHT_COLS),
    Box("9a", "a. OTHER INSURED'S POLICY OR GROUP NUMBER", 20, 1, 29),
    Box("10a", "a. EMPLOYMENT? (Current or Previous)", 20, 30, 19),
    Box("11a", "a. INSURED'S DATE OF BIRTH (MM DD YY) · SEX", 20, RIGHT, RIGHT_COLS),
    Box("9b", "b. RESERVED FOR NUCC USE", 22, 1, 29),
    Box("10b", "b. AUTO ACCIDENT? · PLACE (State)", 22, 30, 19),
    Box("11b", "b. OTHER CLAIM ID (Designated by NUCC)", 22, RIGHT, RIGHT_COLS),
    Box("9c", "c. RESERVED FOR NUCC USE", 24, 1, 29),
    Box("10c", "c. OTHER ACCIDENT?", 24, 30, 19),
    Box("11c", "c. INSURANCE PLAN NAME OR PROGRAM NAME", 24, RIGHT, RIGHT_COLS),
    Box("9d", "d. INSURANCE PLAN NAME OR PROGRAM NAME", 26, 1, 29),
    Box("10d", "10d. CLAIM CODES (Designated by NUCC)", 26, 30, 19),
    Box("11d", "d. IS THERE ANOTHER HEALTH BENEFIT PLAN? (If yes, complete items 9, 9a and 9d)", 26, RIGHT,
        RIGHT_COLS),
    Box("12", "12. PATIENT'S OR AUTHORIZED PERSON'S SIGNATURE: I authorize the release of any medical or other "
              "information necessary to process this claim.", 29, 1, 48, 3),
    Box("13", "13. INSURED'S OR AUTHORIZED PERSON'S SIGNATURE: I authorize payment of medical benefits to the "
              "undersigned physician or supplier.", 29, RIGHT, RIGHT_COLS, 3),
    Box("14", "14. DATE OF CURRENT ILLNESS, INJURY, OR PREGNANCY (LMP) · QUAL.", 32, 1, 29),
    Box("15", "15. OTHER DATE · QUAL.", 32, 30, 19),
    Box("16", "16. DATES PATIENT UNABLE TO WORK IN CURRENT OCCUPATION", 32, RIGHT, RIGHT_COLS),
    Box("17", "17. NAME OF REFERRING PROVIDER OR OTHER SOURCE", 34, 1, 29),
    Box("17b", "17a. · 17b. NPI", 34, 30, 19),
    Box("18", "18. HOSPITALIZATION DATES RELATED TO CURRENT SERVICES", 34, RIGHT, RIGHT_COLS),
    Box("19", "19. ADDITIONAL CLAIM INFORMATION (Designated by NUCC)", 36, 1, 48),
    Box("20", "20. OUTSIDE LAB? · $ CHARGES", 36, RIGHT, RIGHT_COLS),
    Box("21", "21. DIAGNOSIS OR NATURE OF ILLNESS OR INJURY. Relate A-L to service line below (24E)   ICD Ind.",
        40, 1, 48, 4),
    Box("22", "22. RESUBMISSION CODE · ORIGINAL REF. NO.", 38, RIGHT, RIGHT_COLS),
    Box("23", "23. PRIOR AUTHORIZATION NUMBER", 40, RIGHT, RIGHT_COLS),
    Box("24A", "24. A. DATE(S) OF SERVICE From · To", 42, 1, 18),
    Box("24B", "B. PLACE OF SERVICE", 42, 19, 3), Box("24C", "C. EMG", 42, 22, 3),
    Box("24D", "D. PROCEDURES, SERVICES, OR SUPPLIES CPT/HCPCS · MODIFIER", 42, 25, 20),
    Box("24E", "E. DIAGNOSIS POINTER", 42, 45, 5), Box("24F", "F. $ CHARGES", 42, 50, 9),
    Box("24G", "G. DAYS OR UNITS", 42, 59, 4), Box("24H", "H. EPSDT", 42, 63, 2),
    Box("24I", "I. ID QUAL.", 42, 65, 3), Box("24J", "J. RENDERING PROVIDER ID. #", 42, 68, 13),
    *(Box(f"24-{row}", str(row), 42 + 2 * row, 1, 80) for row in range(1, LINES_PER_FORM + 1)),
    Box("25", "25. FEDERAL TAX I.D. NUMBER · SSN EIN", 56, 1, 22),
    Box("26", "26. PATIENT'S ACCOUNT NO.", 56, 23, 14),
    Box("27", "27. ACCEPT ASSIGNMENT?", 56, 37, 12),
    Box("28", "28. TOTAL CHARGE", 56, RIGHT, 12), Box("29", "29. AMOUNT PAID", 56, RIGHT + 12, 12),
    Box("30", "30. Rsvd for NUCC Use", 56, RIGHT + 24, RIGHT_COLS - 24),
    Box("31", "31. SIGNATURE OF PHYSICIAN OR SUPPLIER INCLUDING DEGREES OR CREDENTIALS", 61, 1, 22, 5),
    Box("32", "32. SERVICE FACILITY LOCATION INFORMATION · a. NPI · b.", 61, 23, 26, 5),
    Box("33", "33. BILLING PROVIDER INFO & PH # · a. NPI · b.", 61, RIGHT, RIGHT_COLS, 5),
)
#: Box 21's twelve places, A–L, four to a line: the form prints the letter, the code follows it.
DIAGNOSIS_PLACES = tuple((38 + position // 4, 1 + 13 * (position % 4)) for position in range(12))
LETTERS: tuple[Check, ...] = tuple(Check(line, col, f"{docs.pointer_letter(position + 1)}.")
                                   for position, (line, col) in enumerate(DIAGNOSIS_PLACES))
CHECKS: tuple[Check, ...] = (
    *(Check(8, column, caption) for caption, column in (
        ("MEDICARE", 1), ("MEDICAID", 8), ("TRICARE", 15), ("CHAMPVA", 24), ("GROUP", 31), ("FECA", 39),
        ("OTHER", 45))),
    Check(10, 42, "M"), Check(10, 47, "F"),
    Check(12, 33, "Self"), Check(12, 38, "Spouse"), Check(12, 42, "Child"), Check(12, 47, "Other"),
    *(Check(line, column, caption) for line in (20, 22, 24) for column, caption in ((35, "YES"), (41, "NO"))),
    Check(20, 68, "M"), Check(20, 75, "F"),
    Check(26, 52, "YES"), Check(26, 57, "NO"),
    Check(36, 52, "YES"), Check(36, 57, "NO"),
    Check(56, 17, "SSN"), Check(56, 19, "EIN"),
    Check(56, 38, "YES"), Check(56, 43, "NO"),
)


# ---------------------------------------------------------------- what one claim prints


@dataclass(frozen=True, slots=True)
class OtherInsurance:
    """Box 9: another policy of the client (the secondary when this claim goes to the primary, the primary
    when it goes to the secondary)."""
    insured_name: str
    policy_or_group_number: str
    plan_name: str


def _name(last: str, first: str, middle: str = "") -> str:
    return ", ".join(part for part in (last, first, middle[:1]) if part).upper()


def _mmddyyyy(value: date | None) -> tuple[str, str, str]:
    return (f"{value:%m}", f"{value:%d}", f"{value:%Y}") if value else ("", "", "")


def _money(cents: int, width: int) -> str:
    """150 00, right-aligned: the form prints dollars and cents in separate boxes, with no $ or point."""
    whole, part = divmod(cents, 100)
    return f"{whole} {part:02d}".rjust(width)


def _phone(value: str) -> tuple[str, str]:
    digits = digits_only(value or "")[-10:]
    return (digits[:3], f"{digits[3:6]}-{digits[6:]}") if len(digits) == 10 else ("", value or "")


def _zip(value: str) -> str:
    digits = digits_only(value or "")
    return f"{digits[:5]}-{digits[5:]}" if len(digits) == 9 else digits


def other_insurance(claim: Claim) -> OtherInsurance | None:
    """The client's other policy active on the date of service, the nearest in priority to the claim's own."""
    own = db.session.get(InsurancePolicy, claim.policy_id)
    others = [policy for policy in db.session.scalars(select(InsurancePolicy).where(
        InsurancePolicy.client_id == claim.client_id, InsurancePolicy.id != claim.policy_id))
        if policy.is_active_on(claim.service_date)]
    if not others:
        return None
    policy = min(others, key=lambda other: (abs(other.priority - own.priority), other.priority))
    client = claim.client
    name = _name(client.last_name, client.first_name, client.middle_name or "") if policy.client_is_subscriber \
        else _name(policy.subscriber_last_name or "", policy.subscriber_first_name or "")
    return OtherInsurance(insured_name=name, policy_or_group_number=(policy.group_number or policy.member_id).upper(),
                          plan_name=policy.payer.name.upper())


def prior_payments_cents(claim: Claim) -> int:
    """Box 29: what payers ahead of this claim's payer paid on the same bill (a secondary claim prints what
    the primary paid; a primary claim prints 0)."""
    own = db.session.get(InsurancePolicy, claim.policy_id)
    paid = 0
    for other in db.session.scalars(select(Claim).where(Claim.bill_id == claim.bill_id, Claim.id != claim.id,
                                                        Claim.frequency_code != x12.FREQUENCY_VOID)):
        policy = db.session.get(InsurancePolicy, other.policy_id)
        if policy.priority < own.priority:
            paid += other.paid_cents
    return paid


class _Sheet:
    """Collects the fields of one page."""

    def __init__(self) -> None:
        self.fields: list[docs.FormField] = []

    def put(self, box: str, line: int, col: int, text: str, width: int = 0) -> None:
        text = (text or "").upper()
        if width:
            text = text[:width]
        if text.strip():
            self.fields.append(docs.FormField(box=box, line=line, col=col, text=text))

    def check(self, box: str, line: int, col: int) -> None:
        self.put(box, line, col, "X")

    def date(self, box: str, line: int, cols: tuple[int, int, int], value: date | None) -> None:
        for col, part in zip(cols, _mmddyyyy(value)):
            self.put(box, line, col, part)


def sheets(claim: Claim, practice: Practice, *, printed_on: date) -> list[docs.FormSheet]:
    """The pages of one claim's CMS-1500: six service lines a page."""
    try:
        sent = to_x12_claim(claim)
        billing = x12_billing_provider(claim.snapshot)
    except (KeyError, ValueError) as error:
        raise NotPrintable(f"Claim {claim.patient_control_number} cannot be printed: it lacks what a claim sends "
                           f"({error}). Fix it and recheck it first.") from error
    rendering = claim.snapshot.get("rendering_provider") or {}
    other = other_insurance(claim)
    lines = list(sent.lines)
    chunks = [lines[start:start + LINES_PER_FORM] for start in range(0, len(lines), LINES_PER_FORM)]
    return [_page(claim, practice, sent, billing, rendering, other, chunk, page_number=number, pages=len(chunks),
                  printed_on=printed_on)
            for number, chunk in enumerate(chunks, start=1)]


def _page(claim: Claim, practice: Practice, sent: x12.Claim, billing: x12.BillingProvider, rendering: dict,
          other: OtherInsurance | None, lines: list[x12.ServiceLine], *, page_number: int, pages: int,
          printed_on: date) -> docs.FormSheet:
    page = _Sheet()
    subscriber, patient = sent.subscriber, sent.patient
    payer = claim.payer
    # Carrier block, top right: the payer's name and address.
    carrier = [payer.name, payer.address_line1 or "", payer.address_line2 or "",
               f"{payer.city or ''}, {payer.state or ''} {_zip(payer.zip_code or '')}" if payer.city else ""]
    for offset, text in enumerate(line for line in carrier if line):
        page.put("carrier", 2 + offset, 41, text, 40)
    # 1, 1a: the program, and the insured's id as the card shows it.
    page.check("1", 8, PROGRAM_COLUMNS[PROGRAMS.get(sent.payer.filing_indicator, "other")])
    page.put("1a", 8, 50, subscriber.member_id, 29)
    # 2, 3, 5: the patient as the claim sent them: the subscriber, or the patient loop when someone else is.
    person = patient or subscriber
    page.put("2", 10, 1, _name(person.last_name, person.first_name, person.middle_name), 28)
    page.date("3", 10, (31, 34, 37), person.birth_date)
    if person.sex in ("M", "F"):
        page.check("3", 10, 42 if person.sex == "M" else 47)
    if person.address is not None:
        page.put("5", 12, 1, " ".join(filter(None, (person.address.line1, person.address.line2))), 28)
        page.put("5", 14, 1, person.address.city, 24)
        page.put("5", 14, 26, person.address.state, 2)
        page.put("5", 16, 1, _zip(person.address.zip_code), 12)
    area, number = _phone(claim.client.phone or "")  # the snapshot keeps no phone: the client's, today
    page.put("5", 16, 15, area)
    page.put("5", 16, 19, number, 10)
    # 4, 6, 7, 11: the insured (the subscriber of the policy billed).
    page.put("4", 10, 50, _name(subscriber.last_name, subscriber.first_name, subscriber.middle_name), 31)
    relationship = patient.relationship if patient else "18"
    page.check("6", 12, RELATIONSHIP_COLUMNS.get(relationship, OTHER_RELATIONSHIP_COLUMN))
    address = subscriber.address
    if address is not None:
        page.put("7", 12, 50, " ".join(filter(None, (address.line1, address.line2))), 31)
        page.put("7", 14, 50, address.city, 23)
        page.put("7", 14, 74, address.state, 2)
        page.put("7", 16, 50, _zip(address.zip_code), 12)
    page.put("11", 18, 50, subscriber.group_number or "NONE", 31)
    page.date("11a", 20, (53, 56, 59), subscriber.birth_date)
    if subscriber.sex in ("M", "F"):
        page.check("11a", 20, 68 if subscriber.sex == "M" else 75)
    page.put("11c", 24, 50, sent.payer.name, 31)
    page.check("11d", 26, 52 if other else 57)
    # 9, 9a, 9d: other insurance, when there is any.
    if other is not None:
        page.put("9", 18, 1, other.insured_name, 28)
        page.put("9a", 20, 1, other.policy_or_group_number, 28)
        page.put("9d", 26, 1, other.plan_name, 28)
    # 10a-c: not related to employment or an accident (behavioral health).
    for line in (20, 22, 24):
        page.check("10", line, 41)
    # 12, 13: signatures on file (the practice keeps the release and the assignment of benefits).
    page.put("12", 29, 7, "SIGNATURE ON FILE")
    page.put("12", 29, 36, f"{printed_on:%m %d %Y}")
    page.put("13", 29, 55, "SIGNATURE ON FILE")
    # 20: no outside lab.
    page.check("20", 36, 57)
    # 21: ICD-10-CM (indicator 0), A-L, without the point.
    page.put("21", 37, 44, "0")
    for position, code in enumerate(sent.diagnoses):  # after the letter the form prints
        line, col = DIAGNOSIS_PLACES[position]
        page.put("21", line, col + 3, code.replace(".", ""), 8)
    # 22: a replacement (7) or void (8) names the payer's number for the original claim.
    if sent.frequency_code in RESUBMISSION_CODES:
        page.put("22", 38, 50, sent.frequency_code)
        page.put("22", 38, 62, sent.payer_claim_control_number, 19)
    page.put("23", 40, 50, sent.prior_authorization, 29)
    # 24: the service lines, each with the rendering provider's taxonomy (ZZ) in the shaded half and NPI below.
    rendering_npi = rendering.get("npi") or billing.npi
    rendering_taxonomy = rendering.get("taxonomy") or billing.taxonomy
    for row, line in enumerate(lines, start=1):
        shaded, data = 41 + 2 * row, 42 + 2 * row
        page.put("24I", shaded, 65, "ZZ")
        page.put("24J", shaded, 68, rendering_taxonomy, 13)
        for col, text in zip((1, 4, 7, 10, 13, 16), 2 * (f"{line.service_date:%m}", f"{line.service_date:%d}",
                                                         f"{line.service_date:%y}")):
            page.put("24A", data, col, text)
        page.put("24B", data, 19, line.place_of_service or sent.place_of_service)
        page.put("24D", data, 25, line.procedure_code, 6)
        for index, modifier in enumerate(line.modifiers):
            page.put("24D", data, 33 + 3 * index, modifier, 2)
        page.put("24E", data, 45, "".join(docs.pointer_letter(pointer) for pointer in line.diagnosis_pointers), 4)
        page.put("24F", data, 50, _money(line.charge_cents, 8))
        page.put("24G", data, 59, str(line.units), 3)
        page.put("24J", data, 68, rendering_npi, 10)
    # 25-30.
    page.put("25", 56, 1, digits_only(billing.tax_id), 15)
    page.check("25", 56, 17 if billing.tax_id_is_ssn else 19)
    page.put("26", 56, 23, sent.patient_control_number, 14)
    page.check("27", 56, 38)
    last = page_number == pages
    page.put("28", 56, 50, _money(sent.total_charge_cents, 9) if last else "CONTINUED")
    page.put("29", 56, 62, _money(prior_payments_cents(claim), 8) if last else "")
    # 31: the rendering clinician, with credentials, and the date.
    page.put("31", 60, 1, rendering.get("name") or billing.name, 22)
    page.put("31", 61, 6, f"{printed_on:%m %d %y}")
    # 32: where the services were given: the practice's office.
    facility = billing.address
    page.put("32", 58, 23, practice.legal_name, 26)
    page.put("32", 59, 23, " ".join(filter(None, (facility.line1, facility.line2))), 26)
    page.put("32", 60, 23, f"{facility.city}, {facility.state} {_zip(facility.zip_code)}", 26)
    page.put("32", 61, 23, practice.group_npi or "", 10)
    # 33: the billing provider (the practice, or a clinician billing under their own NPI), phone, NPI, taxonomy.
    area, number = _phone(billing.phone)
    page.put("33", 57, 66, area)
    page.put("33", 57, 70, number, 10)
    page.put("33", 58, 50, _name(billing.name, billing.first_name) if billing.is_person else billing.name, 31)
    page.put("33", 59, 50, " ".join(filter(None, (facility.line1, facility.line2))), 31)
    page.put("33", 60, 50, f"{facility.city}, {facility.state} {_zip(facility.zip_code)}", 31)
    page.put("33", 61, 50, billing.npi, 10)
    page.put("33", 61, 63, f"ZZ{billing.taxonomy}", 17)
    return docs.FormSheet(reference=claim.patient_control_number, page=page_number, pages=pages,
                          fields=tuple(page.fields))


def pdf(claims: list[Claim], practice: Practice, *, layout: str, printed_on: date) -> bytes:
    """One PDF for the claims, one form (or more) each. `layout` is "full" (the form drawn with its boxes
    and labels) or "data" (only the data, for the red pre-printed form, shifted by the practice's offset)."""
    pages = [page for claim in claims for page in sheets(claim, practice, printed_on=printed_on)]
    offset = (practice.cms1500_offset_x / 10, practice.cms1500_offset_y / 10) if layout == "data" else (0.0, 0.0)
    return docs.render_cms1500_pdf(pages, boxes=BOXES, checks=CHECKS, letters=LETTERS, full=layout != "data",
                                   offset_mm=offset)
