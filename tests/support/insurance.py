"""Insured clients with real claims (built by the app's own automation from signed sessions), and 835 files
written for those claims the way a payer would: for tests of acknowledgements, remittances and the
clearinghouse loop."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from app import secrets_at_rest
from app.billing import bills, era
from app.config import encryption_key
from app.extensions import db
from app.models import Claim, Practice, Role, TherapySession
from app.x12 import inbound
from app.x12.remittance import write_835
from tests.support.days import local_today


@dataclass
class Insured:
    make: object
    app: object
    practice: object
    clinician: object
    payer: object
    service: object

    def claim(self, *, member_id: str = "MEM123456", copay_cents: int = 2000, price_cents: int = 15000,
              units: int = 1, client=None, lower_code_reason: str | None = None) -> int:
        """A signed 45-minute session for an insured client, billed: returns the id of the claim the practice's
        automation made (Queued For Submission). `lower_code_reason`: the clinician has confirmed a code lower than
        the minutes support."""
        make = self.make
        client = client or make.client(self.practice, primary_clinician_id=self.clinician.id)
        make.policy(client, self.payer, member_id=member_id, copay_cents=copay_cents)
        session = make.session(client, self.clinician, minutes=45, status="completed",
                               lower_code_reason=lower_code_reason)
        make.line(session, self.service, price_cents=price_cents, units=units)
        make.note(session, diagnosis_codes=["F41.1"], signed_diagnoses=[{"code": "F41.1", "description": ""}],
                  signed_at=session.ends_at)
        with self.app.app_context():
            bill = bills.create_from_sessions(db.session.get(Practice, self.practice.id),
                                              [db.session.get(TherapySession, session.id)])
            db.session.commit()
            claim = db.session.scalar(db.select(Claim).where(Claim.bill_id == bill.id))
            assert claim is not None and claim.status == "queued", claim and claim.problems
            return claim.id


def post_835(app, practice_id: int, payments: list[inbound.ClaimPayment]) -> None:
    """Post an 835 paying these claim payments, as an upload, and commit."""
    with app.app_context():
        era.import_835(db.session.get(Practice, practice_id), remittance_text(payments), source="upload")
        db.session.commit()


def stored_key(app, plain: str) -> str:
    """A Claim.MD AccountKey as the database keeps it: encrypted with the app's key material."""
    return secrets_at_rest.encrypt(plain, encryption_key(app.config))


def insured(make, app, **practice_values) -> Insured:
    practice = make.practice(**practice_values)
    clinician = make.member(practice, Role.CLINICIAN, name="Casey Clinician, LMHC")
    payer = make.payer(practice, name="Harborview Health Plan", clearinghouse_payer_id="HHP01")
    service = make.service(practice, "90834", price_cents=15000)
    return Insured(make, app, practice, clinician, payer, service)


def claim_payment(claim: Claim, *, status: str = "1", allowed_share: int = 80, copay_cents: int = 2000,
                  deductible: bool = False, denial_reason: str = "197", denial_group: str = "CO",
                  denial_split: tuple[tuple[str, str, int], ...] = ()) -> inbound.ClaimPayment:
    """What a payer says about one of our claims: paid at a share of the charge less the copay (CO-45, PR-3),
    all to the deductible (PR-1), denied (<group>-<reason>; or, per line, `denial_split`'s (group, reason,
    amount) with the rest under <group>-<reason>), or a reversal (22) of such a payment."""
    services = []
    copay_left = copay_cents
    for line in claim.lines:
        if status == "4":
            split = tuple(inbound.Adjustment(group=group, reason=reason, amount_cents=amount)
                          for group, reason, amount in denial_split)
            rest = line.charge_cents - sum(adjustment.amount_cents for adjustment in split)
            adjustments = split + ((inbound.Adjustment(group=denial_group, reason=denial_reason, amount_cents=rest),)
                                   if rest else ())
            paid = 0
        else:
            allowed = line.charge_cents * allowed_share // 100
            patient = allowed if deductible else min(copay_left, allowed)
            copay_left -= 0 if deductible else patient
            adjustments = tuple(a for a in (
                inbound.Adjustment(group="CO", reason="45", amount_cents=line.charge_cents - allowed),
                inbound.Adjustment(group="PR", reason="1" if deductible else "3", amount_cents=patient))
                if a.amount_cents)
            paid = allowed - patient
        services.append(inbound.ServicePayment(procedure_code=line.code, modifiers=tuple(line.modifiers),
                                               charge_cents=line.charge_cents, paid_cents=paid, units=line.units,
                                               line_reference=line.line_reference, service_date=line.service_date,
                                               adjustments=adjustments,
                                               remark_codes=("N54",) if status == "4" else ()))
    payment = inbound.ClaimPayment(
        patient_control_number=claim.patient_control_number, status_code=status, charge_cents=claim.total_charge_cents,
        paid_cents=sum(s.paid_cents for s in services),
        patient_responsibility_cents=sum(a.amount_cents for s in services for a in s.adjustments if a.group == "PR"),
        filing_indicator="CI", payer_claim_number=f"PCN{claim.id:08d}", services=tuple(services))
    return payment


def reversal_of(payment: inbound.ClaimPayment) -> inbound.ClaimPayment:
    """CLP02 22: the same claim payment with every amount negated."""
    def negate(adjustments):
        return tuple(inbound.Adjustment(group=a.group, reason=a.reason, amount_cents=-a.amount_cents)
                     for a in adjustments)

    return inbound.ClaimPayment(
        patient_control_number=payment.patient_control_number, status_code="22",
        charge_cents=-payment.charge_cents, paid_cents=-payment.paid_cents,
        patient_responsibility_cents=-payment.patient_responsibility_cents, filing_indicator="CI",
        payer_claim_number=payment.payer_claim_number, adjustments=negate(payment.adjustments),
        services=tuple(inbound.ServicePayment(procedure_code=s.procedure_code, modifiers=s.modifiers,
                                              charge_cents=-s.charge_cents, paid_cents=-s.paid_cents, units=s.units,
                                              line_reference=s.line_reference, service_date=s.service_date,
                                              adjustments=negate(s.adjustments)) for s in payment.services))


_trace = iter(range(1, 10**6))


def remittance_text(payments: list[inbound.ClaimPayment], *, trace_number: str | None = None,
                    payer_name: str = "Harborview Health Plan", payer_id: str = "HHP01",
                    provider_adjustments: tuple[inbound.ProviderAdjustment, ...] = (),
                    control_number: int = 1) -> str:
    """An 835 paying these claim payments, balanced: BPR02 = ΣCLP04 − ΣPLB."""
    total = sum(p.paid_cents for p in payments) - sum(a.amount_cents for a in provider_adjustments)
    remittance = inbound.Remittance(
        total_paid_cents=total, credit_debit="C", payment_method="ACH" if total else "NON", paid_on=local_today(),
        trace_number=trace_number or f"EFT{next(_trace):07d}", payer_identifier="1999999999", payer_name=payer_name,
        payer_id=payer_id, payee_name="Practice", payee_npi="2000000002", claims=tuple(payments),
        provider_adjustments=provider_adjustments)
    return write_835(remittance, sender_id="HHP01", receiver_id="PARITY", interchange_control_number=control_number,
                     created_at=datetime.now(timezone.utc))
