"""SQLAlchemy models, one module per domain. Importing this package registers them all."""
from app.models.audit import AuditEvent
from app.models.catalog import CodeType, ServiceCode
from app.models.mail import OutboundEmail
from app.models.practice import Member, Practice, Role

__all__ = ["AuditEvent", "CodeType", "ServiceCode", "Member", "OutboundEmail", "Practice", "Role"]
