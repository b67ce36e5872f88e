"""Sessions: booking, Mark Session Complete with its billing rules, notes, signing and addenda.

Every rule a clinician can break is collected before anything changes, keyed by the form field it
belongs to ("minutes", "lines-1-code" …), so the form shows each message beside its line and a
failed save changes nothing.
"""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app import audit
from app.billing import bills, catalog, claims, codes, dates, diagnoses
from app.billing.places import PLACES_OF_SERVICE, TELEHEALTH_PLACES
from app.extensions import db
from app.models import (InsurancePolicy, Member, Modality, NoteAddendum, Practice, Role, ServiceCode, SessionNote,
                        SessionService, SessionStatus, TherapySession)
from app.models.types import utcnow

MAX_LINES = 12
MAX_MODIFIERS = 4


class SessionProblems(Exception):
    """What is wrong, keyed by form field; nothing was saved."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{key}: {message}" for key, message in problems.items()))
        self.problems = problems


def minutes_between(starts_at: datetime, ends_at: datetime) -> int:
    return max(0, int((ends_at - starts_at).total_seconds() // 60))


def primary_policy(session: TherapySession) -> InsurancePolicy | None:
    """The client's primary policy in force on the session's date (the practice's day), if any."""
    day = dates.service_day(session.starts_at, dates.zone_name(session.practice_id))
    policies = [policy for policy in session.client.policies if policy.is_active_on(day)]
    return min(policies, key=lambda policy: policy.priority) if policies else None


def suggested_modifier(session: TherapySession) -> str | None:
    """The telehealth modifier the client's payer wants for this session's modality, if any."""
    if session.modality == Modality.IN_PERSON:
        return None
    policy = primary_policy(session)
    if policy is None:
        return "93" if session.modality == Modality.AUDIO else "95"
    modifier = policy.payer.audio_only_modifier if session.modality == Modality.AUDIO else \
        policy.payer.telehealth_modifier
    return modifier or None


# ---------------------------------------------------------------- booking


@dataclass(frozen=True)
class Booking:
    client_id: int
    clinician_id: int
    starts_at: datetime
    ends_at: datetime
    place_of_service: str
    modality: str
    booked_service_id: int | None = None


def booking_problems(practice_id: int, booking: Booking) -> dict[str, str]:
    problems = {}
    if booking.ends_at <= booking.starts_at:
        problems["end_time"] = "The session must end after it starts."
    elif minutes_between(booking.starts_at, booking.ends_at) > 12 * 60:
        problems["end_time"] = "A session cannot last more than 12 hours."
    if booking.place_of_service not in PLACES_OF_SERVICE:
        problems["place_of_service"] = "Choose a place of service from the list."
    if booking.modality in (Modality.VIDEO, Modality.AUDIO) and booking.place_of_service not in TELEHEALTH_PLACES:
        problems["place_of_service"] = ("A telehealth session needs place of service 10 (client at home) or 02 "
                                        "(client elsewhere); payers reject 11 with modifier 95.")
    if booking.modality == Modality.IN_PERSON and booking.place_of_service in TELEHEALTH_PLACES:
        problems["place_of_service"] = "Place of service 02 and 10 are for telehealth; choose where you met."
    clinician = db.session.get(Member, booking.clinician_id)
    if clinician is None or clinician.practice_id != practice_id or clinician.role != Role.CLINICIAN \
            or not clinician.active:
        problems["clinician_id"] = "Choose an active clinician of this practice."
    return problems


def book_session(practice_id: int, booking: Booking, lines: list["LineInput"] = ()) -> TherapySession:
    """Schedule a session; for a paid-in-advance service, with the confirmed lines to bill."""
    problems = booking_problems(practice_id, booking)
    if lines:
        problems |= _line_problems(practice_id, lines, minutes=None)
    if problems:
        raise SessionProblems(problems)
    session = TherapySession(practice_id=practice_id, client_id=booking.client_id,
                             clinician_id=booking.clinician_id, starts_at=booking.starts_at,
                             ends_at=booking.ends_at, minutes=minutes_between(booking.starts_at, booking.ends_at),
                             place_of_service=booking.place_of_service, modality=booking.modality,
                             booked_service_id=booking.booked_service_id, status=SessionStatus.SCHEDULED)
    db.session.add(session)
    db.session.flush()
    _replace_lines(session, lines)
    audit.record("session.booked", session, client_id=booking.client_id, clinician_id=booking.clinician_id,
                 paid_in_advance=bool(lines))
    if lines:
        # Paid in advance: the confirmed lines become an Open bill, due before the session.
        bill = bills.create_from_sessions(db.session.get(Practice, practice_id), [session], open_now=True)
        bill.booked_session_id = session.id
    return session


def reschedule(session: TherapySession, booking: Booking) -> None:
    if session.status == SessionStatus.COMPLETED:
        raise SessionProblems({"status": "A completed session cannot be rescheduled."})
    problems = booking_problems(session.practice_id, booking)
    if problems:
        raise SessionProblems(problems)
    session.starts_at, session.ends_at = booking.starts_at, booking.ends_at
    session.minutes = minutes_between(booking.starts_at, booking.ends_at)
    session.place_of_service, session.modality = booking.place_of_service, booking.modality
    session.clinician_id = booking.clinician_id
    audit.record("session.rescheduled", session, starts_at=booking.starts_at.isoformat())
    bills.session_moved(session)


def set_status(session: TherapySession, status: SessionStatus) -> None:
    """Cancel, mark a no-show, or put a cancelled session back on the schedule."""
    if session.status == SessionStatus.COMPLETED and status != SessionStatus.COMPLETED:
        raise SessionProblems({"status": "A completed session keeps its status; its bill records what happened."})
    if status == SessionStatus.COMPLETED:
        raise SessionProblems({"status": "Use Mark Session Complete to complete a session."})
    if session.status != status:
        audit.record("session.status_changed", session, status=[session.status, str(status)])
        session.status = status


# ---------------------------------------------------------------- Mark Session Complete


@dataclass(frozen=True)
class LineInput:
    """One service line as the clinician entered it; the service is looked up in the practice's catalog."""

    code: str
    description: str = ""
    units: int | None = 1
    price_cents: int | None = None
    modifiers: tuple[str, ...] = field(default_factory=tuple)


def _service(practice_id: int, code: str) -> ServiceCode | None:
    return db.session.scalar(select(ServiceCode).where(ServiceCode.practice_id == practice_id,
                                                      ServiceCode.code == codes.normalize_code(code)))


def _line_problems(practice_id: int, lines: list[LineInput], minutes: int | None,
                   lower_code_reason: str = "") -> dict[str, str]:
    """Per-line rules: a service of the catalog, units, modifiers, time bands (a lower code only with a
    reason), add-ons, repeats."""
    problems: dict[str, str] = {}
    if not lines:
        return {"lines": "Add at least one service."}
    if len(lines) > MAX_LINES:
        return {"lines": f"A session can carry at most {MAX_LINES} service lines."}
    seen: dict[str, int] = {}
    session_codes = [codes.normalize_code(line.code) for line in lines]
    for index, line in enumerate(lines):
        key = f"lines-{index}"
        code = session_codes[index]
        service = _service(practice_id, code) if code else None
        if service is None or not service.enabled:
            problems[f"{key}-code"] = (f"{code} is not an enabled service of your practice: pick one from the list."
                                       if code else "Pick a service.")
            continue
        if line.units is None or line.units < 1:
            problems[f"{key}-units"] = "Units must be at least 1."
        elif line.units > 1 and not service.bill_in_units and not codes.is_repeatable(code):
            problems[f"{key}-units"] = f"{code} is billed once per session, not in units."
        if line.price_cents is not None and line.price_cents < 0:
            problems[f"{key}-price"] = "The price cannot be negative."
        bad_modifiers = [m for m in line.modifiers if not (len(m) == 2 and m.isalnum())]
        if bad_modifiers:
            problems[f"{key}-modifiers"] = f"Modifiers are two letters or digits: {', '.join(bad_modifiers)}."
        elif len(line.modifiers) > MAX_MODIFIERS:
            problems[f"{key}-modifiers"] = f"A line carries at most {MAX_MODIFIERS} modifiers."
        if code in seen and not service.repeatable:
            problems[f"{key}-code"] = f"{code} is already on line {seen[code] + 1} and may be used only once per session."
        seen.setdefault(code, index)
        if minutes is not None and f"{key}-code" not in problems:
            check = catalog.time_check(practice_id, code, minutes)
            if not check.allowed:
                problems[f"{key}-code"] = check.message
                problems.pop(f"{key}-units", None)  # one message: the units follow from the code
            elif check.lower_code and not lower_code_reason:
                problems[f"{key}-code"] = (f"{minutes} minutes supports {check.best_code}, not {code}. To bill the "
                                           f"lower code, confirm it below with a short reason.")
                problems["lower_code_reason"] = (f"Say why you bill {code} although {minutes} minutes supports "
                                                 f"{check.best_code}, or pick {check.best_code}.")
            elif codes.get(code) and line.units and codes.unit_minutes(code) and line.units > check.units > 0:
                problems[f"{key}-units"] = (f"{minutes} minutes support {check.units} unit"
                                            f"{'s' if check.units != 1 else ''} of {code}, not {line.units}.")
        if codes.is_addon(code) and f"{key}-code" not in problems:
            parents = codes.parents(code)
            if not set(parents) & set(session_codes):
                problems[f"{key}-code"] = (f"{code} is an add-on: bill it with its primary code on the same session "
                                           f"({', '.join(parents[:6])}{'…' if len(parents) > 6 else ''}).")
            conflicts = [other for other in session_codes if other in codes.get(code).never_with]
            if conflicts:
                problems[f"{key}-code"] = f"{code} is never billed with {', '.join(sorted(set(conflicts)))}."
    return problems


def _replace_lines(session: TherapySession, lines: list[LineInput]) -> None:
    session.lines.clear()
    db.session.flush()
    for position, line in enumerate(lines, start=1):
        service = _service(session.practice_id, line.code)
        session.lines.append(SessionService(
            practice_id=session.practice_id, service_id=service.id, position=position, code=service.code,
            description=(line.description or service.description or service.name).strip(), units=line.units or 1,
            price_cents=service.price_cents if line.price_cents is None else line.price_cents,
            modifiers=[modifier.upper() for modifier in line.modifiers]))


def lower_codes(practice_id: int, lines: list[LineInput], minutes: int) -> list[str]:
    """The lines' codes that are lower than `minutes` support (each needs the clinician's reason)."""
    return [code for code in (codes.normalize_code(line.code) for line in lines)
            if catalog.time_check(practice_id, code, minutes).lower_code]


def complete_session(session: TherapySession, lines: list[LineInput], minutes: int | None,
                     time_correction_note: str | None, actor: Member, lower_code_reason: str | None = None) -> None:
    """Mark a session complete with the services to bill. Minutes that differ from start-to-end need a
    note saying why; a code lower than the minutes support needs the clinician's reason; a code the minutes
    do not support, an add-on without its parent, a service that may not repeat used twice, or zero units
    are refused, each beside its line."""
    problems: dict[str, str] = {}
    if session.status in (SessionStatus.CANCELLED, SessionStatus.NO_SHOW):
        problems["status"] = "A cancelled or no-show session cannot be completed; put it back on the schedule first."
    if session.starts_at > utcnow():
        problems["status"] = "A session that has not started yet cannot be completed."
    if minutes is None or minutes < 0:
        problems["minutes"] = "Enter the minutes actually spent in session."
    elif minutes > 12 * 60:
        problems["minutes"] = "That is more than 12 hours."
    note = (time_correction_note or "").strip()
    corrected = minutes is not None and minutes != session.scheduled_minutes
    if corrected and not note:
        problems["time_correction_note"] = (f"The session ran {session.scheduled_minutes} minutes from start to end; "
                                            f"say why {minutes} minutes is right (for example, the video connection "
                                            "dropped).")
    reason = (lower_code_reason or "").strip()
    problems |= _line_problems(session.practice_id, list(lines), minutes if "minutes" not in problems else None,
                               reason)
    if problems:
        raise SessionProblems(problems)
    if corrected and (session.minutes != minutes or session.time_correction_note != note):
        audit.record("session.time_corrected", session, minutes=[session.scheduled_minutes, minutes], reason=note)
    lowered = lower_codes(session.practice_id, list(lines), minutes)
    reason = reason if lowered else None
    if lowered and (session.lower_code_reason != reason or session.minutes != minutes):
        audit.record("session.lower_code_confirmed", session, codes=lowered, minutes=minutes, reason=reason)
    session.lower_code_reason = reason
    session.minutes = minutes
    session.time_correction_note = note if corrected else None
    _replace_lines(session, list(lines))
    was_completed = session.status == SessionStatus.COMPLETED
    session.status = SessionStatus.COMPLETED
    session.completed_at = session.completed_at or utcnow()
    session.completed_by_id = actor.id
    audit.record("session.lines_changed" if was_completed else "session.completed", session,
                 codes=[line.code for line in session.lines], minutes=minutes)
    if not was_completed:
        bills.bill_for_completed_session(session, actor)


# ---------------------------------------------------------------- notes and diagnoses


def diagnosis_problems(codes_: list[str]) -> list[str]:
    """Plain-word problems with a note's diagnoses: billable ICD-10-CM codes only, at most 12, no repeats."""
    if not codes_:
        return []
    return diagnoses.validate_for_claim(codes_)


def normalized_diagnoses(raw: list[str]) -> list[str]:
    return [diagnoses.normalize(code) or code.strip().upper() for code in raw if code and code.strip()]


def save_note(session: TherapySession, body: str, diagnosis_codes: list[str]) -> SessionNote:
    """Write the draft note and its diagnoses. A signed note takes addenda instead."""
    note = session.note or SessionNote(practice_id=session.practice_id, session_id=session.id, body="",
                                       diagnosis_codes=[])
    if note.is_signed:
        raise SessionProblems({"body": "This note is signed: add an addendum instead."})
    codes_ = normalized_diagnoses(diagnosis_codes)
    problems = diagnosis_problems(codes_)
    if problems:
        raise SessionProblems({"diagnoses": " ".join(problems)})
    if note.id is None:
        db.session.add(note)
        session.note = note
    if list(note.diagnosis_codes or []) != codes_:
        audit.record("note.diagnoses_changed", session, diagnoses=[list(note.diagnosis_codes or []), codes_])
        note.diagnosis_codes = codes_
    note.body = body or ""
    db.session.flush()
    return note


def sign_note(session: TherapySession, actor: Member) -> SessionNote:
    """Sign the note: only its session's clinician may; the diagnoses it lists become the claim's."""
    note = session.note
    if actor.id != session.clinician_id:
        raise SessionProblems({"note": "Only the session's clinician can sign its note."})
    if note is None or not (note.body or "").strip():
        raise SessionProblems({"body": "Write the note before signing it."})
    if note.is_signed:
        raise SessionProblems({"note": "This note is already signed."})
    problems = diagnosis_problems(note.diagnosis_codes or [])
    if problems:
        raise SessionProblems({"diagnoses": " ".join(problems)})
    note.signed_diagnoses = [{"code": code, "description": diagnoses.describe(code) or ""}
                             for code in note.diagnosis_codes or []]
    note.signed_at = utcnow()
    note.signed_by_id = actor.id
    audit.record("note.signed", session, diagnoses=[entry["code"] for entry in note.signed_diagnoses])
    db.session.flush()
    claims.claims_after_signing(session, actor)
    return note


def save_note_and_sign(session: TherapySession, body: str, diagnosis_codes: list[str], actor: Member) -> SessionNote:
    """Save what was typed and sign it, in one step: if signing is refused, the caller's rollback keeps
    nothing, and the form still holds the text."""
    save_note(session, body, diagnosis_codes)
    return sign_note(session, actor)


def add_addendum(session: TherapySession, actor: Member, body: str, diagnosis_codes: list[str] | None) -> NoteAddendum:
    """Add to a signed note. A diagnosis change here is recorded for the chart; it never changes the
    diagnoses the signed note supplied to claims."""
    note = session.note
    if note is None or not note.is_signed:
        raise SessionProblems({"addendum": "Addenda are for signed notes; edit the draft instead."})
    if not (body or "").strip():
        raise SessionProblems({"addendum": "Write what the addendum adds."})
    codes_ = normalized_diagnoses(diagnosis_codes or []) or None
    if codes_:
        problems = diagnosis_problems(codes_)
        if problems:
            raise SessionProblems({"diagnoses": " ".join(problems)})
    addendum = NoteAddendum(practice_id=session.practice_id, note_id=note.id, author_id=actor.id, body=body.strip(),
                            diagnosis_codes=codes_)
    db.session.add(addendum)
    db.session.flush()
    audit.record("note.addendum_added", session, diagnoses=codes_ or [])
    return addendum
