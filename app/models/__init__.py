"""SQLAlchemy models, one module per domain. Importing this package registers them all."""
from app.models.accounts import MemberSession, PasswordReset
from app.models.audit import AuditEvent
from app.models.bills import (Adjustment, AdjustmentKind, Allocation, Bill, BillCounter, BillEvent, BillLine,
                              BillStatus, Payment, PaymentMethod, PaymentSource, Refund)
from app.models.catalog import CodeType, ServiceCode
from app.models.claims import (Claim, ClaimCount, ClaimEvent, ClaimFile, ClaimLine, ClaimStatus, JobProblem, Submission,
                               SubmissionStatus, X12Counter, X12File)
from app.models.eligibility import EligibilityCheck
from app.models.estimates import GoodFaithEstimate
from app.models.clients import Client, Contact, InsurancePolicy, Payer, Sex, SubscriberRelationship
from app.models.mail import OutboundEmail
from app.models.practice import Member, Practice, RecoveryCode, Role
from app.models.remittances import PostingOutcome, ProviderAdjustment, Remittance, RemittanceClaim
from app.models.reports import Receivable, ReportFact, ReportTotal
from app.models.sandbox import SandboxClaim, SandboxRemittance, SandboxUpload
from app.models.sessions import (Modality, NoteAddendum, SessionNote, SessionService, SessionStatus,
                                 TherapySession)

__all__ = ["MemberSession", "PasswordReset", "Receivable", "ReportFact", "ReportTotal", "JobProblem", "PostingOutcome", "ProviderAdjustment", "Remittance", "RemittanceClaim", "SandboxClaim", "SandboxRemittance",
           "SandboxUpload", "Submission", "SubmissionStatus", "Claim", "ClaimCount", "ClaimEvent", "ClaimFile", "ClaimLine", "ClaimStatus", "X12Counter", "X12File",
           "GoodFaithEstimate", "Adjustment", "AdjustmentKind", "Allocation", "Bill", "BillCounter", "BillEvent", "BillLine", "BillStatus",
           "Payment", "PaymentMethod", "PaymentSource", "Refund", "AuditEvent", "Client", "CodeType", "EligibilityCheck", "Contact", "InsurancePolicy", "Member", "Modality", "NoteAddendum",
           "OutboundEmail", "Payer", "Practice", "RecoveryCode", "Role", "ServiceCode", "SessionNote", "SessionService",
           "SessionStatus", "Sex", "SubscriberRelationship", "TherapySession"]
