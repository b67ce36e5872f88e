"""What an 837P claim batch sends, as plain frozen data.

The app maps its models onto these classes; the writer (`writer_837p.write_837p`) turns them into X12.
Nothing here touches the database, so a batch is a snapshot: what was sent stays what was sent.

Each class checks only what would make the file impossible to write (a missing principal diagnosis,
a pointer to a diagnosis that is not there, a replacement claim without the payer's claim number).
Whether a code, NPI or date is *right* is the claim scrubber's job, and `validate.validate_x12`
checks the written file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

#: Claim filing indicators 005010X222A1 accepts in SBR09 (CI commercial, MB Medicare Part B,
#: MC Medicaid, BL Blue Cross Blue Shield, HM HMO, CH TRICARE, VA veterans affairs, 11 other non-federal …).
FILING_INDICATORS = frozenset({
    "11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS", "FI", "HM", "LM", "MA", "MB",
    "MC", "OF", "TV", "VA", "WC", "ZZ",
})

#: SBR01: which payer this is for the claim (P primary, S secondary, T tertiary; A–H and U for the
#: fourth payer onwards).
PAYER_RESPONSIBILITIES = frozenset({"P", "S", "T", "A", "B", "C", "D", "E", "F", "G", "H", "U"})

#: PAT01 for a patient who is not the subscriber.
RELATIONSHIP_SPOUSE = "01"
RELATIONSHIP_CHILD = "19"
RELATIONSHIP_OTHER = "G8"
PATIENT_RELATIONSHIPS = frozenset({RELATIONSHIP_SPOUSE, RELATIONSHIP_CHILD, RELATIONSHIP_OTHER,
                                   "20", "21", "39", "40", "53"})

#: CLM05-3: 1 original, 7 replacement of a prior claim, 8 void of a prior claim.
FREQUENCY_ORIGINAL = "1"
FREQUENCY_REPLACEMENT = "7"
FREQUENCY_VOID = "8"
FREQUENCY_CODES = frozenset({FREQUENCY_ORIGINAL, FREQUENCY_REPLACEMENT, FREQUENCY_VOID})

SEXES = frozenset({"F", "M", "U"})
USAGE_INDICATORS = frozenset({"T", "P"})

MAX_DIAGNOSES = 12  # HI01–HI12
MAX_POINTERS = 4  # SV107-1 … SV107-4
MAX_MODIFIERS = 4  # SV101-3 … SV101-6
MAX_LINES = 50  # the 2400 loop repeats at most 50 times per claim
MAX_PATIENT_CONTROL_NUMBER = 20  # CLM01 allows 38, but many payers keep only 20 (and echo it on the 835)
MAX_CONTROL_NUMBER = 999_999_999  # ISA13 is nine digits; GS06 and ST02 fit in nine as well


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    """A US street address; ZIP as 5 or 9 digits (a dash is fine). The billing provider needs all nine."""

    line1: str
    city: str
    state: str
    zip_code: str
    line2: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Submitter:
    """Who sends the file (loop 1000A): the practice, known to the clearinghouse by `identifier`."""

    name: str
    identifier: str  # the submitter id (ETIN) the receiver assigned
    contact_name: str
    phone: str = ""  # 10 digits; separators are stripped
    email: str = ""

    def __post_init__(self) -> None:
        _require(bool(self.phone or self.email), "the submitter needs a phone number or an email address")


@dataclass(frozen=True, slots=True, kw_only=True)
class Receiver:
    """Who receives the file (loop 1000B): the clearinghouse."""

    name: str
    identifier: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BillingProvider:
    """The practice or solo clinician that bills (loop 2000A/2010AA).

    An organization sets `name`; a person sets `name` (last name), `first_name` and `is_person=True`.
    `tax_id` is an EIN unless `tax_id_is_ssn`.
    """

    name: str
    npi: str
    taxonomy: str
    tax_id: str
    address: Address
    is_person: bool = False
    first_name: str = ""
    middle_name: str = ""
    tax_id_is_ssn: bool = False
    phone: str = ""  # sends a billing-provider PER*IC when set
    contact_name: str = ""

    def __post_init__(self) -> None:
        _require(not self.is_person or bool(self.first_name), "a billing provider who is a person needs a first name")
        _require(sum(char.isdigit() for char in self.address.zip_code) == 9,
                 "the billing provider's ZIP code needs all nine digits (ZIP+4)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Payer:
    """The insurer (loop 2010BB), named by the payer id the clearinghouse publishes."""

    name: str
    payer_id: str
    filing_indicator: str = "CI"

    def __post_init__(self) -> None:
        _require(self.filing_indicator in FILING_INDICATORS,
                 f"claim filing indicator {self.filing_indicator!r} is not one 837P accepts")


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscriber:
    """The policy holder (loop 2000B/2010BA).

    Birth date, sex and address are sent only when the subscriber is the patient, so they may be
    left out for a subscriber whose dependant is the patient.
    """

    member_id: str
    last_name: str
    first_name: str
    middle_name: str = ""
    name_suffix: str = ""
    group_number: str = ""
    birth_date: date | None = None
    sex: str = "U"
    address: Address | None = None

    def __post_init__(self) -> None:
        _require(self.sex in SEXES, f"sex {self.sex!r} must be F, M or U")


@dataclass(frozen=True, slots=True, kw_only=True)
class Patient:
    """The patient when not the subscriber (loop 2000C/2010CA); `relationship` is PAT01: "01", "19", "G8"."""

    last_name: str
    first_name: str
    birth_date: date
    sex: str
    address: Address
    relationship: str
    middle_name: str = ""
    name_suffix: str = ""

    def __post_init__(self) -> None:
        _require(self.sex in SEXES, f"sex {self.sex!r} must be F, M or U")
        _require(self.relationship in PATIENT_RELATIONSHIPS,
                 f"relationship {self.relationship!r} is not a PAT01 code (01 spouse, 19 child, G8 other)")


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderingProvider:
    """The clinician who saw the patient (loop 2310B), sent when not the billing provider."""

    last_name: str
    first_name: str
    npi: str
    taxonomy: str
    middle_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CarriedAdjustment:
    """One CAS reason an earlier payer gave (group CO / PR / OA / PI / CR, a CARC, an amount), as the next payer's
    claim repeats it (loop 2320 for the claim, 2430 for a line)."""

    group: str
    reason: str
    amount_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LineAdjudication:
    """Loop 2430: what an earlier payer did with one line — SVD (its id, what it paid, the code and units it
    adjudicated), its line CAS, and DTP*573 (when)."""

    payer_id: str  #: SVD01: the 2330B NM109 of that payer
    paid_cents: int
    procedure_code: str
    units: int
    adjudicated_on: date
    modifiers: tuple[str, ...] = ()
    adjustments: tuple[CarriedAdjustment, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class OtherPayer:
    """Loops 2320/2330A/2330B: a payer that adjudicated the claim before the one billed now (the primary on a
    secondary claim; primary and secondary on a tertiary)."""

    responsibility: str  #: SBR01 of that payer: P, S or T
    relationship: str  #: SBR02: 18 self, 01 spouse, 19 child, G8 other
    subscriber: Subscriber  #: 2330A: its subscriber's name and member id
    payer: Payer  #: 2330B
    paid_cents: int  #: AMT*D
    adjudicated_on: date  #: DTP*573 in 2330B
    adjustments: tuple[CarriedAdjustment, ...] = ()  #: its claim-level CAS
    remaining_patient_liability_cents: int | None = None  #: AMT*EAF

    def __post_init__(self) -> None:
        _require(self.responsibility in PAYER_RESPONSIBILITIES,
                 f"payer responsibility {self.responsibility!r} must be P, S or T")
        _require(self.relationship in PATIENT_RELATIONSHIPS | {"18"},
                 f"relationship {self.relationship!r} is not an SBR02 code")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceLine:
    """One 2400 line. `diagnosis_pointers` are 1-based positions in the claim's `diagnoses`."""

    line_id: str  # REF*6R: the 835 echoes it, so remittance lines match ours without guessing
    procedure_code: str
    charge_cents: int
    units: int
    service_date: date
    diagnosis_pointers: tuple[int, ...]
    modifiers: tuple[str, ...] = ()
    place_of_service: str = ""  # SV105, only when it differs from the claim's
    adjudications: tuple[LineAdjudication, ...] = ()  # 2430: what earlier payers did with this line

    def __post_init__(self) -> None:
        _require(1 <= len(self.line_id) <= 50, "a line id must be 1 to 50 characters")
        _require(self.charge_cents >= 0, "a line charge cannot be negative")
        _require(self.units >= 1, "a line needs at least one unit")
        _require(1 <= len(self.diagnosis_pointers) <= MAX_POINTERS, "a line points at 1 to 4 diagnoses")
        _require(len(self.modifiers) <= MAX_MODIFIERS, "a line carries at most 4 modifiers")


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """One 2300 claim. `diagnoses` are dotted ICD-10-CM codes, the principal first.

    `patient` is None when the subscriber is the patient. `payer_claim_control_number` is the payer's
    number for the original claim, required for a replacement (7) or void (8).
    """

    patient_control_number: str
    place_of_service: str
    diagnoses: tuple[str, ...]
    lines: tuple[ServiceLine, ...]
    subscriber: Subscriber
    payer: Payer
    frequency_code: str = FREQUENCY_ORIGINAL
    payer_claim_control_number: str = ""
    patient: Patient | None = None
    rendering_provider: RenderingProvider | None = None
    prior_authorization: str = ""
    payer_responsibility: str = "P"
    other_payers: tuple[OtherPayer, ...] = ()  # 2320/2330: the payers that adjudicated it before this one
    total_charge_cents: int = field(init=False)

    def __post_init__(self) -> None:
        _require(1 <= len(self.patient_control_number) <= MAX_PATIENT_CONTROL_NUMBER,
                 f"patient control number {self.patient_control_number!r} must be 1 to 20 characters")
        _require(1 <= len(self.diagnoses) <= MAX_DIAGNOSES, "a claim carries 1 to 12 diagnoses")
        _require(1 <= len(self.lines) <= MAX_LINES, "a claim carries 1 to 50 lines")
        _require(self.frequency_code in FREQUENCY_CODES,
                 f"frequency code {self.frequency_code!r} must be 1 (original), 7 (replacement) or 8 (void)")
        _require(self.frequency_code == FREQUENCY_ORIGINAL or bool(self.payer_claim_control_number),
                 "a replacement or void claim needs the payer's claim control number of the original")
        _require(self.payer_responsibility in PAYER_RESPONSIBILITIES,
                 f"payer responsibility {self.payer_responsibility!r} must be P, S or T")
        _require(self.payer_responsibility == "P" or bool(self.other_payers),
                 "a secondary or tertiary claim names the payers that adjudicated it before (loop 2320)")
        known_payers = {other.payer.payer_id for other in self.other_payers}
        for line in self.lines:
            for adjudication in line.adjudications:
                _require(adjudication.payer_id in known_payers,
                         f"line {line.line_id} carries an adjudication by {adjudication.payer_id}, which is not "
                         "one of the claim's other payers")
            for pointer in line.diagnosis_pointers:
                _require(1 <= pointer <= len(self.diagnoses),
                         f"line {line.line_id} points at diagnosis {pointer}, but the claim has "
                         f"{len(self.diagnoses)}")
        if self.patient is None:
            subscriber = self.subscriber
            _require(subscriber.birth_date is not None and subscriber.address is not None,
                     "when the subscriber is the patient, their birth date and address are required")
        # Derived, never entered: the claim total is the sum of its lines, so the two cannot disagree.
        object.__setattr__(self, "total_charge_cents", sum(line.charge_cents for line in self.lines))

    @property
    def patient_is_subscriber(self) -> bool:
        return self.patient is None


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """One interchange: ISA/GS/ST envelopes around every claim of one billing provider.

    Control numbers are the caller's to allocate (unique and increasing per practice). A batch of more
    than `claims_per_transaction` claims (5,000, the implementation guide's limit) is split over several
    ST transactions numbered from `transaction_control_number` upwards.
    """

    interchange_control_number: int  # ISA13 / IEA02
    group_control_number: int  # GS06 / GE02
    transaction_control_number: int  # ST02 / SE02 of the first transaction
    created_at: datetime
    sender_id: str  # ISA06, up to 15 characters
    receiver_id: str  # ISA08, up to 15 characters
    submitter: Submitter
    receiver: Receiver
    billing_provider: BillingProvider
    claims: tuple[Claim, ...]
    usage_indicator: str = "P"  # ISA15: P production, T test
    sender_id_qualifier: str = "ZZ"  # ISA05: ZZ mutually defined, 30 federal tax id …
    receiver_id_qualifier: str = "ZZ"  # ISA07
    application_sender_code: str = ""  # GS02; the sender id when empty
    application_receiver_code: str = ""  # GS03; the receiver id when empty
    reference: str = ""  # BHT03; the transaction control number when empty
    acknowledgment_requested: bool = False  # ISA14: ask for a TA1
    claims_per_transaction: int = 5000

    def __post_init__(self) -> None:
        for name in ("interchange_control_number", "group_control_number", "transaction_control_number"):
            number = getattr(self, name)
            _require(1 <= number <= MAX_CONTROL_NUMBER, f"{name} must be 1 to 999999999, not {number}")
        _require(self.usage_indicator in USAGE_INDICATORS, "usage indicator must be T (test) or P (production)")
        _require(1 <= len(self.sender_id) <= 15 and 1 <= len(self.receiver_id) <= 15,
                 "ISA sender and receiver ids are 1 to 15 characters")
        _require(len(self.sender_id_qualifier) == 2 and len(self.receiver_id_qualifier) == 2,
                 "ISA id qualifiers are 2 characters")
        _require(bool(self.claims), "a batch needs at least one claim")
        _require(1 <= self.claims_per_transaction <= 5000, "a transaction holds 1 to 5000 claims")
        last_transaction = self.transaction_control_number + (len(self.claims) - 1) // self.claims_per_transaction
        _require(last_transaction <= MAX_CONTROL_NUMBER, "transaction control numbers would pass 999999999")
