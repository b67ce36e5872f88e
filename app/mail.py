"""Outgoing email: queued as an OutboundEmail row, delivered by the deliver_email job after commit."""
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlparse

from flask import current_app, render_template

from app.after_commit import request_job
from app.extensions import db
from app.models import OutboundEmail, Practice
from app.models.types import utcnow


def queue(practice: Practice, *, to: str, subject: str, template: str, attachment: tuple[str, bytes] | None = None,
          idempotency_key: str | None = None, deliver: bool = True, **context) -> OutboundEmail:
    """Queue a message rendered from a text template; it is sent once the transaction commits (or, with
    deliver=False, by the caller: a job that is already running delivers it itself)."""
    email = OutboundEmail(
        practice_id=practice.id,
        to_address=to,
        subject=subject,
        body=render_template(template, practice=practice, public_url=current_app.config["PUBLIC_URL"], **context),
        attachment_name=attachment[0] if attachment else None,
        attachment=attachment[1] if attachment else None,
        idempotency_key=idempotency_key,
    )
    db.session.add(email)
    db.session.flush()
    if deliver:
        request_job(db.session, "deliver_email", email.id, job_id=f"deliver_email-{email.id}")
    return email


def _message(email: OutboundEmail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Message-ID"] = f"<parity-{email.id}-{email.practice_id}@{urlparse(current_app.config['PUBLIC_URL']).hostname}>"
    message.set_content(email.body)
    if email.attachment:
        maintype, subtype = ("application", "pdf") if email.attachment_name.endswith(".pdf") else ("application", "octet-stream")
        message.add_attachment(email.attachment, maintype=maintype, subtype=subtype, filename=email.attachment_name)
    return message


def send_smtp(smtp_url: str, message: EmailMessage) -> None:
    """Send through smtp://[user:pass@]host[:port][?starttls=1] or smtps://…"""
    url = urlparse(smtp_url)
    options = parse_qs(url.query)
    if url.scheme == "smtps":
        client = smtplib.SMTP_SSL(url.hostname, url.port or 465, timeout=30, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(url.hostname, url.port or 25, timeout=30)
    with client:
        if options.get("starttls", ["0"])[0] in {"1", "true"}:
            client.starttls(context=ssl.create_default_context())
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)


def deliver(email_id: int) -> str:
    """Deliver one message; a message already delivered is left alone, so running twice is harmless."""
    email = db.session.get(OutboundEmail, email_id, with_for_update=True)
    if email is None or email.status in {"sent", "outbox"}:
        return email.status if email else "missing"
    email.attempts += 1
    smtp_url = current_app.config.get("SMTP_URL")
    if smtp_url:
        try:
            send_smtp(smtp_url, _message(email))
        except (OSError, smtplib.SMTPException) as error:
            email.status, email.error = "failed", f"{type(error).__name__}: {error}"
            db.session.commit()  # keep the error visible, then let RQ retry
            raise
        email.status = "sent"
    else:
        email.status = "outbox"
    email.error = None
    email.delivered_at = utcnow()
    return email.status
