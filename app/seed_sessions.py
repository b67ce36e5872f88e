"""One demo session recorded through the same rules the pages use: booked, completed with its lines, its note
written and signed, so the practice's automation makes its bill and claim. Shared by the demo's history
(app/seed_history.py) and its recent weeks (app/seed_clinical.py)."""
from datetime import date, datetime, time, timedelta

from app.billing import dates, sessions as rules
from app.billing.sessions import Booking, LineInput
from app.extensions import db
from app.models import Client, Member, Practice, SessionStatus, TherapySession


def _at(practice: Practice, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=dates.zone(practice.timezone))


def record_session(practice: Practice, day: date, hour: int, client: Client, clinician: Member, minutes: int,
                   modality: str | None, lines: list[tuple], diagnosis_codes: list[str], *, sign: bool = True,
                   status: SessionStatus | None = None) -> TherapySession:
    """Book a session and, unless it has another `status`, complete it with its lines (the telehealth modifier
    the payer wants added), write its note and sign it: the practice's automation makes the bill and claim."""
    modality = modality or "in_person"
    starts = _at(practice, day, hour)
    booking = Booking(client_id=client.id, clinician_id=clinician.id, starts_at=starts,
                      ends_at=starts + timedelta(minutes=minutes or 50), modality=modality,
                      place_of_service="10" if modality != "in_person" else "11")
    session = rules.book_session(practice.id, booking)
    if status is not None:
        if status != SessionStatus.SCHEDULED:
            rules.set_status(session, status)
        return session
    db.session.refresh(session, ["client"])
    modifier = rules.suggested_modifier(session)
    inputs = [LineInput(code=line[0], units=line[1] if len(line) > 1 else 1,
                        modifiers=(line[2],) if len(line) > 2 else (modifier,) if modifier else ())
              for line in lines]
    rules.complete_session(session, inputs, minutes, None, clinician)
    rules.save_note(session, _note_text(client, diagnosis_codes), diagnosis_codes)
    if sign:
        rules.sign_note(session, clinician)
    return session


def _note_text(client: Client, codes_: list[str]) -> str:
    return (f"Session with {client.first_name}. Reviewed the week, practiced the coping plan, and agreed on "
            f"goals for next time. Working diagnosis {', '.join(codes_) or 'deferred'}.")
