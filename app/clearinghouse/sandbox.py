"""The `sandbox` clearinghouse: plays clearinghouse and payer, deterministically, from the claims it receives.

It reads the 837P files it is sent, remembers them in tables of its own (app/models/sandbox.py, written in
its own transactions as a remote party would), and on every poll moves each claim one step and answers in
real X12 that goes through the same readers and posting code as a real clearinghouse's files:

1. upload: the file is accepted; the next poll returns its 999 (accepted).
2. poll: a 277CA per received claim: member IDs ending in **R** are rejected (A7, "subscriber not found"
   → Needs Review); the others are acknowledged (A1 → Received) with a payer claim number (REF*1K).
3. next poll: a 277CA P1 (pending, in adjudication → In process).
4. next poll: an 835 per payer for the claims in adjudication, with a trace number of its own:
   - member IDs ending in **D** are denied (CLP02 4, CO-197 "no prior authorization", remark N54);
   - member IDs ending in **Y** go all to the deductible: $0 paid, PR-1 for the allowed amount (the client owes);
   - all others are paid at 80 % of the charge (the allowed amount), less the policy's copay (PR-3) on the
     first line — or, for Medicare Part B (filing indicator MB), less 20 % coinsurance (PR-2) on every line;
     the remaining 20 % is a contractual write-off (CO-45);
   - member IDs ending in **C** are paid the same way and forwarded to the client's next payer (CLP02 19, a
     crossover, NM1*TT naming it): on the next poll that payer's own 835 arrives (CLP02 2, the same CLP01).
   - a claim sent to a secondary or tertiary payer (SBR01 S or T, the earlier payers in 2320 and 2430): that
     payer pays 75 % of what the last earlier payer left the client on each line (SVD and its PR adjustments),
     leaves the rest to the client as coinsurance (PR-2), and reports the earlier payers' part as OA-23.
A claim sent again (a correction) starts over at step 2.

Eligibility (a 270 in, a real 271 back at once, by the subscriber's member ID):
- ending in **X**: coverage inactive (EB*6);
- ending in **R**: rejected, subscriber not found (AAA*N**75), as its claims are;
- ending in **U**: the payer cannot answer now (AAA*N**42 at the payer's level: try again later);
- ending in **A**: active, as below, and prior authorization required (EB11 Y) for mental health;
- ending in **Y**: active, no copay, the whole $1,500 deductible left, then 20 % coinsurance;
- all others: active, in network: the policy's copay ($30 when it has none), a $1,500 deductible with $400
  left, 20 % coinsurance, a $5,000 out-of-pocket maximum with $3,200 left, 30 visits a year with 22 left.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clearinghouse.base import (ClearinghouseError, PollResult, RemittanceList, RemittanceNotice, UploadReceipt,
                                    ClaimReceipt)
from app.extensions import db
from app.models import InsurancePolicy, Payer, SandboxClaim, SandboxRemittance, SandboxUpload
from app.x12 import inbound
from app.x12 import eligibility
from app.x12.acknowledgements import write_277ca, write_999
from app.x12.remittance import write_835
from app.x12.segments import X12ReadError, cents, read_interchanges

ALLOWED_SHARE = 80  # percent of the charge the sandbox payer allows
DEFAULT_COPAY_CENTS = 3000
MEDICARE_COINSURANCE = 20  # percent of the allowed amount Medicare Part B leaves the patient (PR-2)
LATER_PAYER_SHARE = 75  # percent of what the earlier payer left that a secondary or tertiary payer pays
SANDBOX_ID = "PARITYSANDBOX"


class Sandbox:
    name = "sandbox"
    automated = True

    def __init__(self, practice_id: int):
        self.practice_id = practice_id

    # ------------------------------------------------------------ receiving files

    def upload(self, filename: str, content: str) -> UploadReceipt:
        try:
            claims = read_837(content)
        except X12ReadError as error:
            return UploadReceipt(accepted=False, errors=(f"The sandbox could not read the file: {error}",))
        with Session(db.engine) as session, session.begin():
            upload = session.scalar(select(SandboxUpload).where(SandboxUpload.practice_id == self.practice_id,
                                                                SandboxUpload.filename == filename))
            if upload is None:  # the same file again is the same file: idempotent, like find_upload
                upload = SandboxUpload(practice_id=self.practice_id, filename=filename, content=content,
                                       claim_count=len(claims))
                session.add(upload)
                session.flush()
                for claim in claims:
                    held = session.scalar(select(SandboxClaim).where(
                        SandboxClaim.practice_id == self.practice_id,
                        SandboxClaim.patient_control_number == claim.patient_control_number))
                    if held is None:
                        session.add(SandboxClaim(practice_id=self.practice_id, upload_id=upload.id,
                                                 patient_control_number=claim.patient_control_number))
                    else:
                        held.upload_id, held.stage = upload.id, "received"
            return self._receipt(upload, claims)

    def _receipt(self, upload: SandboxUpload, claims: list["SentClaim"]) -> UploadReceipt:
        return UploadReceipt(accepted=True, reference=f"SBX-{upload.id}",
                             claims=tuple(ClaimReceipt(patient_control_number=claim.patient_control_number,
                                                       accepted=True, clearinghouse_claim_id=f"SBX{upload.id}-{n}")
                                          for n, claim in enumerate(claims, start=1)),
                             raw={"fileid": f"SBX-{upload.id}", "claims": len(claims)})

    def find_upload(self, filename: str) -> UploadReceipt | None:
        with Session(db.engine) as session:
            upload = session.scalar(select(SandboxUpload).where(SandboxUpload.practice_id == self.practice_id,
                                                                SandboxUpload.filename == filename))
            return None if upload is None else self._receipt(upload, read_837(upload.content))

    # ------------------------------------------------------------ answering

    def poll(self, cursor: str) -> PollResult:
        """One step for every claim the sandbox holds (see the module docstring), as X12 files."""
        documents: list[str] = []
        now = datetime.now(timezone.utc)
        with Session(db.engine) as session, session.begin():
            uploads = session.scalars(select(SandboxUpload).where(SandboxUpload.practice_id == self.practice_id,
                                                                  SandboxUpload.acknowledged.is_(False))
                                      .order_by(SandboxUpload.id)).all()
            for upload in uploads:
                documents.append(self._999(upload, now))
                upload.acknowledged = True
            held = session.scalars(select(SandboxClaim).where(SandboxClaim.practice_id == self.practice_id,
                                                              SandboxClaim.stage.in_(["received", "acknowledged",
                                                                                      "adjudicating", "forwarded"]))
                                   .order_by(SandboxClaim.id)).all()
            contents = {upload.id: upload.content for upload in session.scalars(
                select(SandboxUpload).where(SandboxUpload.id.in_({claim.upload_id for claim in held})))}
            sent = {}
            for upload_id, content in contents.items():
                for claim in read_837(content):
                    sent[(upload_id, claim.patient_control_number)] = claim
            by_stage: dict[str, list[tuple[SandboxClaim, SentClaim]]] = {}
            for row in held:
                claim = sent.get((row.upload_id, row.patient_control_number))
                if claim is not None:
                    by_stage.setdefault(row.stage, []).append((row, claim))
            # Oldest step first, so each claim moves exactly one step per poll.
            forwarded = by_stage.get("forwarded", [])
            if forwarded:
                self._remit(session, [self._as_crossover(session, claim) for _, claim in forwarded], now)
                for row, _ in forwarded:
                    row.stage = "remitted"
            adjudicating = by_stage.get("adjudicating", [])
            if adjudicating:
                payments = [self._adjudicate(session, claim) for _, claim in adjudicating]
                self._remit(session, [(claim.payer_id, claim.payer_name, claim, payment)
                                      for (_, claim), payment in zip(adjudicating, payments)], now)
                for (row, _), payment in zip(adjudicating, payments):
                    row.stage = "forwarded" if payment.forwarded else "remitted"
            acknowledged = by_stage.get("acknowledged", [])
            if acknowledged:
                documents.append(self._277(session, [
                    inbound.ClaimStatusReport(patient_control_number=claim.patient_control_number, category="P1",
                                              status_code="20", message="In adjudication with the sandbox payer.",
                                              payer_claim_number=_payer_claim_number(claim),
                                              charge_cents=claim.charge_cents, effective_date=now.date())
                    for _, claim in acknowledged], acknowledged[0][1], now))
                for row, _ in acknowledged:
                    row.stage = "adjudicating"
            received = by_stage.get("received", [])
            if received:
                reports = []
                for row, claim in received:
                    if claim.member_id.upper().endswith("R"):
                        reports.append(inbound.ClaimStatusReport(
                            patient_control_number=claim.patient_control_number, category="A7", status_code="33",
                            entity="IL", message=f"Subscriber not found: member ID {claim.member_id} is not on file "
                            "with the payer.", charge_cents=claim.charge_cents, effective_date=now.date()))
                        row.stage = "rejected"
                    else:
                        reports.append(inbound.ClaimStatusReport(
                            patient_control_number=claim.patient_control_number, category="A1", status_code="19",
                            message="Accepted by the sandbox payer.", payer_claim_number=_payer_claim_number(claim),
                            charge_cents=claim.charge_cents, effective_date=now.date()))
                        row.stage = "acknowledged"
                documents.append(self._277(session, reports, received[0][1], now))
        return PollResult(documents=tuple(documents), cursor=cursor)

    def _control_number(self, session: Session) -> int:
        """The sandbox's own interchange numbers: one more than every file it has produced."""
        uploads = session.scalar(select(func.count()).select_from(SandboxUpload)
                                 .where(SandboxUpload.practice_id == self.practice_id)) or 0
        remits = session.scalar(select(func.count()).select_from(SandboxRemittance)
                                .where(SandboxRemittance.practice_id == self.practice_id)) or 0
        self._issued = getattr(self, "_issued", 0) + 1
        return 100_000_000 + (uploads + remits) * 10 + self._issued % 10

    def _999(self, upload: SandboxUpload, now: datetime) -> str:
        interchange = read_interchanges(upload.content)[0]
        group = interchange.groups[0]
        return write_999(
            group_control_number=group.control_number,
            transactions=[(transaction.control_number, "A", ()) for transaction in group.transactions],
            sender_id=SANDBOX_ID, receiver_id=interchange.sender_id,
            interchange_control_number=200_000_000 + upload.id, created_at=now)

    def _277(self, session: Session, reports: list[inbound.ClaimStatusReport], sample: "SentClaim",
             now: datetime) -> str:
        return write_277ca(reports, payer_name=sample.payer_name, payer_id=sample.payer_id,
                           receiver_name=sample.submitter_name, receiver_id=sample.submitter_id,
                           billing_provider_name=sample.billing_provider_name,
                           billing_provider_npi=sample.billing_provider_npi, sender_id=SANDBOX_ID,
                           receiver_isa_id=sample.submitter_id, interchange_control_number=self._control_number(session),
                           created_at=now)

    def _remit(self, session: Session, decided: list[tuple[str, str, "SentClaim", inbound.ClaimPayment]],
               now: datetime) -> None:
        """One 835 per payer for the (payer id, payer name, claim, payment) decided this poll."""
        by_payer: dict[tuple[str, str], list[tuple[SentClaim, inbound.ClaimPayment]]] = {}
        for payer_id, payer_name, claim, payment in decided:
            by_payer.setdefault((payer_id, payer_name), []).append((claim, payment))
        for (payer_id, payer_name), items in sorted(by_payer.items(), key=lambda item: item[0]):
            paid_claims = tuple(payment for _, payment in items)
            sample = items[0][0]
            record = SandboxRemittance(practice_id=self.practice_id, payer_name=payer_name, payer_id=payer_id,
                                       check_number="", amount_cents=sum(c.paid_cents for c in paid_claims),
                                       paid_on=now.date(), content="")
            session.add(record)
            session.flush()
            record.check_number = f"SBX{self.practice_id:04d}{record.id:08d}"
            remittance = inbound.Remittance(
                total_paid_cents=record.amount_cents, credit_debit="C",
                payment_method="ACH" if record.amount_cents else "NON", paid_on=now.date(),
                trace_number=record.check_number, payer_identifier="1" + payer_id.rjust(9, "0")[:9],
                payer_name=payer_name, payer_id=payer_id, payee_name=sample.billing_provider_name,
                payee_npi=sample.billing_provider_npi, claims=paid_claims)
            record.content = write_835(remittance, sender_id=SANDBOX_ID, receiver_id=sample.submitter_id,
                                       interchange_control_number=300_000_000 + record.id, created_at=now)

    def _next_payer(self, session: Session, claim: "SentClaim") -> tuple[str, str] | None:
        """The payer (id, name) of the policy after the one this claim was sent under, as the payer's files know
        it (the client's policies by priority)."""
        policy = session.scalar(select(InsurancePolicy).where(
            InsurancePolicy.practice_id == self.practice_id, InsurancePolicy.member_id == claim.member_id)
            .order_by(InsurancePolicy.id.desc()).limit(1))
        if policy is None:
            return None
        later = session.scalar(select(InsurancePolicy).where(InsurancePolicy.client_id == policy.client_id,
                                                             InsurancePolicy.priority > policy.priority)
                               .order_by(InsurancePolicy.priority).limit(1))
        if later is None:
            return None
        payer = session.get(Payer, later.payer_id)
        return payer.clearinghouse_payer_id, payer.name

    def _as_crossover(self, session: Session, claim: "SentClaim") -> tuple[str, str, "SentClaim",
                                                                          inbound.ClaimPayment]:
        """The next payer's own 835 for a claim the primary forwarded: the same CLP01, processed as secondary."""
        primary = self._adjudicate(session, claim)
        left = {service.line_reference: sum(a.amount_cents for a in service.adjustments if a.group == "PR")
                for service in primary.services}
        payer_id, payer_name = primary.crossover_payer_id, primary.crossover_payer_name
        return payer_id, payer_name, claim, _as_later_payer(claim, "2", left, f"SBX2{claim.patient_control_number}")

    def _adjudicate(self, session: Session, claim: "SentClaim") -> inbound.ClaimPayment:
        if claim.responsibility in ("S", "T"):
            return _as_later_payer(claim, "2" if claim.responsibility == "S" else "3",
                                   {line.reference: line.left_cents for line in claim.lines},
                                   _payer_claim_number(claim))
        member = claim.member_id.upper()
        copay = session.scalar(select(InsurancePolicy.copay_cents).where(
            InsurancePolicy.practice_id == self.practice_id, InsurancePolicy.member_id == claim.member_id)
            .order_by(InsurancePolicy.id.desc()).limit(1)) or 0
        services = []
        copay_left = copay
        for line in claim.lines:
            if member.endswith("D"):
                adjustments = (inbound.Adjustment(group="CO", reason="197", amount_cents=line.charge_cents),)
                paid, remarks = 0, ("N54",)
            else:
                allowed = line.charge_cents * ALLOWED_SHARE // 100
                medicare = claim.filing_indicator == "MB"
                if member.endswith("Y"):
                    patient_share, reason = allowed, "1"
                elif medicare:
                    patient_share, reason = allowed * MEDICARE_COINSURANCE // 100, "2"
                else:
                    patient_share, reason = min(copay_left, allowed), "3"
                    copay_left -= patient_share
                adjustments = tuple(adj for adj in (
                    inbound.Adjustment(group="CO", reason="45", amount_cents=line.charge_cents - allowed),
                    inbound.Adjustment(group="PR", reason=reason, amount_cents=patient_share)) if adj.amount_cents)
                paid, remarks = allowed - patient_share, ()
            services.append(inbound.ServicePayment(
                procedure_code=line.code, modifiers=line.modifiers, charge_cents=line.charge_cents, paid_cents=paid,
                units=line.units, line_reference=line.reference, service_date=line.service_date,
                adjustments=adjustments, allowed_cents=None if member.endswith("D") else
                line.charge_cents * ALLOWED_SHARE // 100, remark_codes=remarks))
        paid = sum(service.paid_cents for service in services)
        patient = sum(adj.amount_cents for service in services for adj in service.adjustments if adj.group == "PR")
        crossover = self._next_payer(session, claim) if member.endswith("C") else None
        status = "4" if member.endswith("D") else "19" if crossover else "1"
        return inbound.ClaimPayment(patient_control_number=claim.patient_control_number,
                                    status_code=status, charge_cents=claim.charge_cents,
                                    paid_cents=paid, patient_responsibility_cents=patient,
                                    filing_indicator=claim.filing_indicator or "CI",
                                    payer_claim_number=_payer_claim_number(claim), services=tuple(services),
                                    patient_name=claim.patient_name, member_id=claim.member_id,
                                    crossover_payer_id=crossover[0] if crossover else "",
                                    crossover_payer_name=crossover[1] if crossover else "")

    def list_remittances(self, cursor: str) -> RemittanceList:
        after = int(cursor) if cursor.isdigit() else 0
        with Session(db.engine) as session:
            rows = session.scalars(select(SandboxRemittance).where(SandboxRemittance.practice_id == self.practice_id,
                                                                   SandboxRemittance.id > after)
                                   .order_by(SandboxRemittance.id)).all()
            notices = tuple(RemittanceNotice(reference=str(row.id), payer_name=row.payer_name, payer_id=row.payer_id,
                                             check_number=row.check_number, paid_on=row.paid_on,
                                             amount_cents=row.amount_cents) for row in rows)
        return RemittanceList(notices=notices, cursor=notices[-1].reference if notices else cursor)

    def fetch_remittance(self, notice: RemittanceNotice) -> str:
        with Session(db.engine) as session:
            row = session.get(SandboxRemittance, int(notice.reference))
            if row is None or row.practice_id != self.practice_id:
                raise ClearinghouseError(f"The sandbox has no 835 {notice.reference}.")
            return row.content

    # ------------------------------------------------------------ eligibility

    def check_eligibility(self, inquiry: str) -> str:
        """The sandbox payer's 271 for a 270, by the member ID rules in the module docstring."""
        try:
            asked = eligibility.read_270(inquiry)
        except X12ReadError as error:
            raise ClearinghouseError(f"The sandbox could not read the 270: {error}") from None
        member = asked.member_id.upper()
        now = datetime.now(timezone.utc)
        number = 400_000_000 + int(now.timestamp() * 1000) % 100_000_000
        answer = dict(sender_id=SANDBOX_ID, interchange_control_number=number, created_at=now)
        if member.endswith("U"):
            return eligibility.write_271(asked, active=None, payer_unavailable=True, **answer)
        if member.endswith("R"):
            return eligibility.write_271(asked, active=None, rejection=("75", "N"), **answer)
        if member.endswith("X"):
            return eligibility.write_271(asked, active=False, lines=[eligibility.BenefitLine(
                code="6", messages=("Coverage ended; ask the client for their current insurance.",))], **answer)
        return eligibility.write_271(asked, active=True, lines=self._benefits(asked.member_id, member), group_name=
                                     "SANDBOX EMPLOYER GROUP", **answer)

    def _benefits(self, member_id: str, member: str) -> list[eligibility.BenefitLine]:
        line = eligibility.BenefitLine
        mental_health = ("MH", "A6", "A8", "CF")
        authorization = True if member.endswith("A") else False
        lines = [line(code="1", service_types=("30",), plan_name="SANDBOX PPO")]
        if member.endswith("Y"):
            lines += [line(code="C", service_types=mental_health, period="23", amount_cents=150_000, in_network=True),
                      line(code="C", service_types=mental_health, period="29", amount_cents=150_000, in_network=True),
                      line(code="A", service_types=mental_health, percent=20, in_network=True,
                           authorization_required=authorization)]
            return lines
        with Session(db.engine) as session:
            copay = session.scalar(select(InsurancePolicy.copay_cents).where(
                InsurancePolicy.practice_id == self.practice_id, InsurancePolicy.member_id == member_id)
                .order_by(InsurancePolicy.id.desc()).limit(1)) or DEFAULT_COPAY_CENTS
        lines += [
            line(code="B", service_types=mental_health, period="27", amount_cents=copay, in_network=True,
                 authorization_required=authorization,
                 messages=("Prior authorization required before the first visit.",) if authorization else ()),
            line(code="B", service_types=mental_health, period="27", amount_cents=copay * 2, in_network=False),
            line(code="C", service_types=mental_health, period="23", amount_cents=150_000, in_network=True),
            line(code="C", service_types=mental_health, period="29", amount_cents=40_000, in_network=True),
            line(code="A", service_types=mental_health, percent=20, in_network=True),
            line(code="A", service_types=mental_health, percent=40, in_network=False),
            line(code="G", service_types=mental_health, period="23", amount_cents=500_000, in_network=True),
            line(code="G", service_types=mental_health, period="29", amount_cents=320_000, in_network=True),
            line(code="F", service_types=("MH",), period="23", visits=30, in_network=True),
            line(code="F", service_types=("MH",), period="29", visits=22, in_network=True),
        ]
        return lines


def _payer_claim_number(claim: "SentClaim") -> str:
    return f"SBX{claim.patient_control_number}"


def _as_later_payer(claim: "SentClaim", status: str, left: dict[str, int], payer_claim_number: str
                    ) -> inbound.ClaimPayment:
    """A secondary (2) or tertiary (3) payer's decision: it pays LATER_PAYER_SHARE % of what the earlier payer left
    the client on each line (`left`, by line id), leaves the rest as coinsurance (PR-2), and reports everything
    else as the earlier payers' part (OA-23)."""
    services = []
    for line in claim.lines:
        owed = max(0, min(left.get(line.reference, 0), line.charge_cents))
        paid = owed * LATER_PAYER_SHARE // 100
        adjustments = tuple(adj for adj in (
            inbound.Adjustment(group="OA", reason="23", amount_cents=line.charge_cents - owed),
            inbound.Adjustment(group="PR", reason="2", amount_cents=owed - paid)) if adj.amount_cents)
        services.append(inbound.ServicePayment(
            procedure_code=line.code, modifiers=line.modifiers, charge_cents=line.charge_cents, paid_cents=paid,
            units=line.units, line_reference=line.reference, service_date=line.service_date, adjustments=adjustments))
    return inbound.ClaimPayment(
        patient_control_number=claim.patient_control_number, status_code=status, charge_cents=claim.charge_cents,
        paid_cents=sum(service.paid_cents for service in services),
        patient_responsibility_cents=sum(a.amount_cents for service in services for a in service.adjustments
                                         if a.group == "PR"),
        filing_indicator="12", payer_claim_number=payer_claim_number, services=tuple(services),
        patient_name=claim.patient_name, member_id=claim.member_id)


# ---------------------------------------------------------------- reading what was sent


@dataclass(frozen=True)
class SentLine:
    code: str
    modifiers: tuple[str, ...]
    charge_cents: int
    units: int
    reference: str
    service_date: date | None
    left_cents: int = 0  #: what the last earlier payer left the client on this line (2430 PR), for later payers


@dataclass(frozen=True)
class SentClaim:
    patient_control_number: str
    charge_cents: int
    member_id: str
    patient_name: str
    payer_name: str
    payer_id: str
    filing_indicator: str
    submitter_name: str
    submitter_id: str
    billing_provider_name: str
    billing_provider_npi: str
    lines: tuple[SentLine, ...]
    responsibility: str = "P"  #: SBR01 of the payer the claim was sent to


def read_837(text: str) -> list[SentClaim]:
    """The claims of an 837P, as much as the sandbox payer needs: who, for what, how much, and our line ids."""
    claims: list[SentClaim] = []
    for interchange in read_interchanges(text):
        component = interchange.delimiters.component
        for group in interchange.groups:
            for transaction in group.transactions:
                context: dict[str, str] = {}
                current: dict | None = None

                def finish() -> None:
                    if current is not None:
                        claims.append(SentClaim(lines=tuple(SentLine(**{key: value for key, value in line.items()
                                                                        if key != "adjudicated"})
                                                            for line in current["lines"]),
                                                **{key: value for key, value in current.items() if key != "lines"}))

                for segment in transaction.segments:
                    tag = segment[0]
                    if tag in ("NM1", "SBR") and current is not None:
                        continue  # 2320/2330: an earlier payer and its subscriber, not the payer billed now
                    if tag == "NM1" and len(segment) > 3:
                        name = segment[3] + (f", {segment[4]}" if len(segment) > 4 and segment[4] else "")
                        entity = segment[1]
                        if entity == "41":
                            context["submitter_name"], context["submitter_id"] = name, _at(segment, 9)
                        elif entity == "85":
                            context["billing_provider_name"], context["billing_provider_npi"] = name, _at(segment, 9)
                        elif entity == "IL":
                            context["member_id"], context["patient_name"] = _at(segment, 9), name
                        elif entity == "QC":
                            context["patient_name"] = name
                        elif entity == "PR":
                            context["payer_name"], context["payer_id"] = segment[3], _at(segment, 9)
                    elif tag == "SBR":
                        context["filing_indicator"], context["responsibility"] = _at(segment, 9), _at(segment, 1)
                    elif tag == "HL":
                        finish()
                        current = None
                    elif tag == "CLM":
                        finish()
                        current = {"patient_control_number": segment[1],
                                   "charge_cents": cents(segment[2], "CLM02"), "lines": [],
                                   **{key: context.get(key, "") for key in (
                                       "member_id", "patient_name", "payer_name", "payer_id", "filing_indicator",
                                       "submitter_name", "submitter_id", "billing_provider_name",
                                       "billing_provider_npi")}, "responsibility": context.get("responsibility", "P")}
                    elif tag == "SV1" and current is not None:
                        procedure = segment[1].split(component)
                        current["lines"].append({"code": _at(procedure, 1), "modifiers": tuple(m for m in procedure[2:] if m),
                                                 "charge_cents": cents(segment[2], "SV102"),
                                                 "units": int(float(_at(segment, 4) or "1")), "reference": "",
                                                 "service_date": None, "left_cents": 0})
                    elif tag == "DTP" and current is not None and current["lines"] and _at(segment, 1) == "472":
                        value = _at(segment, 3)[:8]
                        current["lines"][-1]["service_date"] = date(int(value[:4]), int(value[4:6]), int(value[6:8]))
                    elif tag == "REF" and current is not None and current["lines"] and _at(segment, 1) == "6R":
                        current["lines"][-1]["reference"] = _at(segment, 2)
                    elif tag == "SVD" and current is not None and current["lines"]:
                        current["lines"][-1]["left_cents"] = 0  # the last earlier payer's decision counts
                        current["lines"][-1]["adjudicated"] = True
                    elif tag == "CAS" and current is not None and current["lines"] \
                            and current["lines"][-1].get("adjudicated") and _at(segment, 1) == "PR":
                        current["lines"][-1]["left_cents"] += sum(
                            cents(segment[index], "CAS") for index in range(3, len(segment), 3) if segment[index])
                finish()
                current = None
    return claims


def _at(segment: list[str], position: int) -> str:
    return segment[position] if len(segment) > position else ""
