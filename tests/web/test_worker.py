"""worker.py as a real process, on real Redis, running real jobs against the real database."""
import asyncio
import email
import socket

import pytest

from app.extensions import db
from app.models import OutboundEmail, Role
from tests.support.processes import running_worker, wait_for

pytestmark = pytest.mark.slow


def email_status(app, address):
    with app.app_context():
        return db.session.scalar(db.select(OutboundEmail.status).where(OutboundEmail.to_address == address))


def add_member(client, address):
    response = client.post("/settings/members", data={"name": "New Biller", "email": address, "role": "biller",
                                                      "password": "long enough password"})
    assert response.status_code == 303


def test_worker_process_is_counted_by_healthz_and_runs_the_welcome_email_job(app, client, make, sign_in,
                                                                             database_url, redis_url, tmp_path):
    sign_in(make.member(role=Role.ADMIN))
    with running_worker(database_url, redis_url, str(tmp_path / "worker")) as worker:
        wait_for(lambda: client.get("/healthz").get_json()["workers"] == 1, what="the worker to register")
        add_member(client, "new.biller@example.org")
        wait_for(lambda: email_status(app, "new.biller@example.org") == "outbox", what="the email job")
        assert worker.poll() is None
    assert worker.returncode == 0, worker.log
    assert client.get("/healthz").get_json()["workers"] == 0


def test_a_request_that_fails_enqueues_nothing(app, client, make, sign_in):
    from app.jobs import queue

    sign_in(make.member(role=Role.ADMIN))
    response = client.post("/settings/members", data={"name": "X", "email": "bad", "role": "biller",
                                                      "password": "long enough password"})
    assert response.status_code == 422
    with app.app_context():
        assert queue().count == 0
    add_member(client, "ok@example.org")
    with app.app_context():
        assert queue().count == 1


def test_running_the_email_job_twice_sends_once(app, make):
    from app import jobs, mail
    from app.models import Practice

    practice = make.practice()
    with app.app_context():
        with app.test_request_context():
            message = mail.queue(db.session.get(Practice, practice.id), to="twice@example.org", subject="Hi",
                                 template="mail/welcome.txt", member=make.member(practice, Role.BILLER))
        db.session.commit()
        email_id = message.id
        assert jobs.deliver_email(email_id) == "outbox"
        assert jobs.deliver_email(email_id) == "outbox"
        assert db.session.get(OutboundEmail, email_id).attempts == 1


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(email.message_from_bytes(envelope.content))
            return "250 Message accepted for delivery"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    controller.url = f"smtp://127.0.0.1:{port}"
    controller.messages = handler.messages
    yield controller
    controller.stop()
    asyncio.set_event_loop(asyncio.new_event_loop())


def test_worker_sends_email_with_attachment_through_smtp(app, make, database_url, redis_url, tmp_path, smtp_server):
    from app import mail
    from app.models import Practice

    practice = make.practice()
    member = make.member(practice, Role.BILLER)
    with app.app_context():
        with app.test_request_context():
            mail.queue(db.session.get(Practice, practice.id), to="client@example.org", subject="Your statement",
                       template="mail/welcome.txt", member=member, attachment=("statement.pdf", b"%PDF-1.7 test"))
        db.session.commit()
    with running_worker(database_url, redis_url, str(tmp_path / "worker"), SMTP_URL=smtp_server.url) as worker:
        wait_for(lambda: email_status(app, "client@example.org") == "sent", what="the SMTP delivery")
    [message] = smtp_server.messages
    assert message["To"] == "client@example.org" and message["Subject"] == "Your statement"
    [attachment] = [part for part in message.walk() if part.get_filename()]
    assert attachment.get_filename() == "statement.pdf"
    assert attachment.get_payload(decode=True) == b"%PDF-1.7 test"
    assert worker.returncode == 0, worker.log


def test_sending_a_bill_emails_its_pdf_through_smtp_from_the_worker(app, client, make, sign_in, database_url,
                                                                     redis_url, tmp_path, smtp_server):
    import io

    from pypdf import PdfReader

    from app.billing import bills
    from app.models import Practice, TherapySession

    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    patient = make.client(practice, email="robin@example.org")
    make.contact(patient, name="Pat Guardian", email="pat.guardian@example.org")
    session = make.session(patient, clinician, status="completed")
    make.line(session, make.service(practice, "90834", price_cents=15000))
    with app.app_context():
        bill = bills.create_from_sessions(db.session.get(Practice, practice.id),
                                          [db.session.get(TherapySession, session.id)], open_now=True)
        db.session.commit()
        bill_id, number = bill.id, bill.number
    sign_in(make.member(practice, Role.BILLER))
    with running_worker(database_url, redis_url, str(tmp_path / "worker"), SMTP_URL=smtp_server.url) as worker:
        assert client.post(f"/bills/{bill_id}/send").status_code == 303
        wait_for(lambda: email_status(app, "pat.guardian@example.org") == "sent", what="the bill email")
    [message] = smtp_server.messages
    assert message["To"] == "pat.guardian@example.org" and number in message["Subject"]
    [attachment] = [part for part in message.walk() if part.get_filename()]
    assert attachment.get_filename() == f"bill-{number}.pdf"
    text = PdfReader(io.BytesIO(attachment.get_payload(decode=True))).pages[0].extract_text()
    assert number in text and "$150.00" in text and "Pat Guardian" in text
    assert worker.returncode == 0, worker.log


def test_jobs_asked_for_in_savepoints_follow_the_transaction(app):
    """A savepoint's requests wait for the transaction around it; a rolled-back savepoint asks for nothing, and
    nothing reaches Redis before the outermost commit."""
    from app import jobs
    from app.after_commit import request_job

    with app.app_context():
        queue = jobs.queue()
        request_job(db.session, "deliver_email", 1, job_id="outer-before")
        with db.session.begin_nested():
            request_job(db.session, "deliver_email", 2, job_id="kept-savepoint")
        assert queue.count == 0  # released savepoint: still the outer transaction's
        savepoint = db.session.begin_nested()
        request_job(db.session, "deliver_email", 3, job_id="rolled-back-savepoint")
        with db.session.begin_nested():
            request_job(db.session, "deliver_email", 4, job_id="inside-rolled-back")
        savepoint.rollback()
        request_job(db.session, "deliver_email", 5, job_id="outer-after")
        db.session.commit()
        assert sorted(queue.job_ids) == ["kept-savepoint", "outer-after", "outer-before"]
        request_job(db.session, "deliver_email", 6, job_id="whole-rollback")
        db.session.rollback()
        db.session.commit()
        assert sorted(queue.job_ids) == ["kept-savepoint", "outer-after", "outer-before"]
