"""Sessions: the day and week lists, booking, Mark Session Complete, notes and diagnoses."""
from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import access
from app.authz import any_member, load, roles
from app.billing import codes, diagnoses, eligibility, worklist
from app.billing import sessions as rules
from app.billing.money import dollars
from app.billing.sessions import Booking, LineInput, SessionProblems
from app.blueprints.sessions.forms import (AddendumForm, BookingForm, CompleteForm, LineForm, LinesForm, NoteForm,
                                           SessionFilterForm, StatusForm)
from app.blueprints.settings.forms import ConfirmForm
from app.extensions import db
from app.formatting import practice_zone
from app.forms import show_problems
from app.models import Bill, BillLine, Claim, Client, Member, Role, ServiceCode, SessionStatus, TherapySession
from app.models.types import utcnow
from app.rendering import render_page, see_other

bp = Blueprint("sessions", __name__, url_prefix="/sessions")
diagnoses_bp = Blueprint("diagnoses", __name__, url_prefix="/diagnoses")
schedulers = roles(Role.ADMIN, Role.CLINICIAN)


# ---------------------------------------------------------------- loading and lists


def _session(session_id: int) -> TherapySession:
    return access.require_session(current_user, load(TherapySession, session_id))


def _editable(session_id: int) -> TherapySession:
    session = _session(session_id)
    if not access.may_edit_session(current_user, session):
        abort(403)
    return session


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=practice_zone())


#: The most sessions a filtered list shows at once.
FILTERED_LIMIT = 500


def _filters() -> SessionFilterForm:
    form = SessionFilterForm(request.args)
    if not form.validate() and form.status.errors:
        form.status.data = ""  # an unknown status filters nothing
    return form


def _filtered(form: SessionFilterForm, now: datetime):
    """Every session the member sees that matches the filters, oldest first (the worklist's conditions)."""
    query = select(TherapySession).where(access.session_filter(current_user))
    if form.status.data:
        query = query.where(TherapySession.status == form.status.data)
    if form.past.data:
        query = query.where(worklist.ended(now))
    if form.unsigned.data:
        query = query.where(worklist.unsigned_note())
    return query.order_by(TherapySession.starts_at, TherapySession.id)


@bp.route("")
@any_member
def index():
    """List a day's or a week's sessions, by clinician; or, with ?status=, ?past=1 or ?unsigned=1, every
    session that matches (past sessions still Scheduled, completed sessions whose note is not signed)."""
    zone = practice_zone()
    today = datetime.now(zone).date()
    filters = _filters()
    try:
        day = date.fromisoformat(request.args.get("date", "")) if request.args.get("date") else today
    except ValueError:
        day = today
    view = "week" if request.args.get("view") == "week" else "day"
    first = day - timedelta(days=day.weekday()) if view == "week" else day
    last = first + timedelta(days=7 if view == "week" else 1)
    if filters.active:
        query = _filtered(filters, utcnow())
    else:
        query = (select(TherapySession).where(access.session_filter(current_user),
                                              TherapySession.starts_at >= _local(first, time()),
                                              TherapySession.starts_at < _local(last, time()))
                 .order_by(TherapySession.starts_at))
    query = query.options(selectinload(TherapySession.client), selectinload(TherapySession.clinician),
                          selectinload(TherapySession.lines), selectinload(TherapySession.note))
    clinician_id = request.args.get("clinician", type=int)
    if clinician_id and access.sees_whole_practice(current_user):
        query = query.where(TherapySession.clinician_id == clinician_id)
    sessions = db.session.scalars(query.limit(FILTERED_LIMIT) if filters.active else query).all()
    step = timedelta(days=7 if view == "week" else 1)
    return render_page("sessions/index.html", sessions=sessions, day=day, first=first, last=last - timedelta(days=1),
                       view=view, clinicians=_clinicians(), clinician_id=clinician_id, previous=day - step,
                       following=day + step, today=today, filters=filters, limit=FILTERED_LIMIT)


def _clinicians() -> list[Member]:
    query = select(Member).where(Member.practice_id == current_user.practice_id, Member.role == Role.CLINICIAN,
                                 Member.active.is_(True)).order_by(Member.name)
    if current_user.role == Role.CLINICIAN:
        query = query.where(Member.id == current_user.id)
    return db.session.scalars(query).all()


def _visible_clients() -> list[Client]:
    return db.session.scalars(select(Client).where(access.client_filter(current_user), Client.active.is_(True))
                              .order_by(Client.last_name, Client.first_name)).all()


# ---------------------------------------------------------------- booking


def _booking_form(session: TherapySession | None = None) -> BookingForm:
    form = BookingForm(obj=None)
    if session is not None and request.method == "GET":
        zone = practice_zone()
        form = BookingForm(client_id=session.client_id, clinician_id=session.clinician_id,
                           day=session.starts_at.astimezone(zone).date(),
                           start_time=session.starts_at.astimezone(zone).time(),
                           end_time=session.ends_at.astimezone(zone).time(), modality=session.modality,
                           place_of_service=session.place_of_service)
    clients = _visible_clients() if session is None else [session.client]
    form.client_id.choices = [(client.id, f"{client.last_name}, {client.first_name}") for client in clients]
    form.clinician_id.choices = [(member.id, member.name) for member in _clinicians()]
    if request.method == "GET" and session is None:
        if current_user.role == Role.CLINICIAN:
            form.clinician_id.data = current_user.id
        if request.args.get("client", type=int):
            form.client_id.data = request.args.get("client", type=int)
    return form


def _booking(form: BookingForm, booked_service_id: int | None = None) -> Booking:
    return Booking(client_id=form.client_id.data, clinician_id=form.clinician_id.data,
                   starts_at=_local(form.day.data, form.start_time.data),
                   ends_at=_local(form.day.data, form.end_time.data), place_of_service=form.place_of_service.data,
                   modality=form.modality.data, booked_service_id=booked_service_id)


def _advance_service(form: BookingForm) -> ServiceCode | None | bool:
    """The paid-in-advance service named on the form; None when none is named; False when it is not one."""
    if not form.service.data:
        return None
    service = db.session.scalar(select(ServiceCode).where(
        ServiceCode.practice_id == current_user.practice_id, ServiceCode.code == codes.normalize_code(form.service.data),
        ServiceCode.enabled.is_(True)))
    if service is None or not service.requires_advance_payment:
        form.service.errors = [*form.service.errors,
                               "Pick an enabled service that requires payment in advance, or leave this empty."]
        return False
    return service


def _line_inputs(form: LinesForm) -> list[LineInput]:
    return [LineInput(code=entry.form.code.data or "", description=entry.form.description.data or "",
                      units=entry.form.units.data, price_cents=entry.form.price.cents,
                      modifiers=tuple((entry.form.modifiers.data or "").replace(",", " ").upper().split()))
            for entry in form.lines if (entry.form.code.data or "").strip()]


@bp.route("/new", methods=["GET", "POST"])
@schedulers
def new():
    """Book a session; a paid-in-advance service first shows its lines for review."""
    form = _booking_form()
    lines_form = LinesForm()
    if form.validate_on_submit():
        service = _advance_service(form)
        booking = _booking(form, service.id if service else None)
        if booking.client_id not in {client.id for client in _visible_clients()}:
            abort(404)
        if service and "confirm" not in request.form:
            minutes = rules.minutes_between(booking.starts_at, booking.ends_at)
            units = codes.units_for(service.code, minutes) if codes.unit_minutes(service.code) else 1
            review = LinesForm(formdata=None, lines=[{"code": service.code, "description": service.description or
                                                      service.name, "units": max(units, 1),
                                                      "price": dollars(service.price_cents)}])
            return render_page("sessions/review.html", form=form, lines_form=review, minutes=minutes,
                               service=service)
        if service and not lines_form.validate():
            return render_page("sessions/review.html", status=422, form=form, lines_form=lines_form,
                               minutes=rules.minutes_between(booking.starts_at, booking.ends_at), service=service)
        if service is not False:
            try:
                lines = _line_inputs(lines_form) if service else []
                if service and not lines:
                    raise SessionProblems({"lines": "A paid-in-advance booking needs at least one line."})
                session = rules.book_session(current_user.practice_id, booking, lines)
            except SessionProblems as error:
                show_problems(form, error.problems)
                if service:
                    show_problems(lines_form, error.problems)
                    return render_page("sessions/review.html", status=422, form=form, lines_form=lines_form,
                                       minutes=rules.minutes_between(booking.starts_at, booking.ends_at),
                                       service=service)
            else:
                flash("Session booked." + (" Its lines are ready to bill in advance." if service else ""), "success")
                return see_other(url_for("sessions.show", session_id=session.id))
    status = 422 if request.method == "POST" else 200
    return render_page("sessions/form.html", status=status, form=form, session=None)


@bp.route("/<int:session_id>")
@any_member
def show(session_id: int):
    """Show a session: time, place, services, diagnoses, and the note to those who may read it."""
    session = _session(session_id)
    return render_page("sessions/show.html", session=session, policy=rules.primary_policy(session),
                       outlook=_outlook(session),
                       may_edit=access.may_edit_session(current_user, session),
                       may_read_note=access.may_read_note_text(current_user, session),
                       status_form=StatusForm(status=session.status), confirm=ConfirmForm(),
                       places=rules.PLACES_OF_SERVICE, **_billing(session))


def _billing(session: TherapySession) -> dict:
    """The bills that bill the session and their claims, those the member may open."""
    billed = select(BillLine.bill_id).where(BillLine.session_id == session.id)
    session_bills = db.session.scalars(select(Bill).where(Bill.id.in_(billed), access.bill_filter(current_user))
                                       .order_by(Bill.id)).all()
    session_claims = db.session.scalars(select(Claim).where(Claim.bill_id.in_(billed),
                                                            access.claim_filter(current_user))
                                        .order_by(Claim.id)).all()
    return {"session_bills": session_bills, "session_claims": session_claims}


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
@schedulers
def edit(session_id: int):
    """Reschedule a session or change where and how it happens."""
    session = _editable(session_id)
    form = _booking_form(session)
    if form.validate_on_submit():
        try:
            rules.reschedule(session, _booking(form, session.booked_service_id))
        except SessionProblems as error:
            show_problems(form, error.problems)
        else:
            flash("Session saved.", "success")
            return see_other(url_for("sessions.show", session_id=session.id))
    return render_page("sessions/form.html", status=422 if request.method == "POST" else 200, form=form,
                       session=session)


@bp.route("/<int:session_id>/status", methods=["POST"])
@schedulers
def change_status(session_id: int):
    """Cancel a session, mark it a no-show, or put it back on the schedule."""
    session = _editable(session_id)
    form = StatusForm()
    if form.validate():
        try:
            rules.set_status(session, SessionStatus(form.status.data))
        except SessionProblems as error:
            flash(" ".join(error.problems.values()), "error")
            return see_other(url_for("sessions.show", session_id=session.id))
        flash(f"Session marked {SessionStatus(form.status.data).label.lower()}.", "success")
    return see_other(url_for("sessions.show", session_id=session.id))


# ---------------------------------------------------------------- Mark Session Complete


def _outlook(session: TherapySession):
    """The client's latest eligibility answer and their expected share of this session's rate (its lines, or the
    booked service's price)."""
    if rules.primary_policy(session) is None:
        return None
    rate = sum(line.price_cents * line.units for line in session.lines)
    if not rate and session.booked_service_id:
        service = db.session.get(ServiceCode, session.booked_service_id)
        rate = service.price_cents if service else 0
    return eligibility.outlook(session.client, rate)


def _complete_form(session: TherapySession) -> CompleteForm:
    if request.method == "POST":
        return CompleteForm()
    modifier = rules.suggested_modifier(session)
    if session.lines:
        lines = [{"code": line.code, "description": line.description, "units": line.units,
                  "price": dollars(line.price_cents), "modifiers": " ".join(line.modifiers)} for line in session.lines]
    else:
        lines = [{"units": 1, "modifiers": modifier or ""}]
    return CompleteForm(formdata=None, minutes=session.minutes if session.minutes is not None
                        else session.scheduled_minutes, time_correction_note=session.time_correction_note,
                        lower_code_reason=session.lower_code_reason, lines=lines)


@bp.route("/<int:session_id>/complete", methods=["GET", "POST"])
@schedulers
def complete(session_id: int):
    """Mark Session Complete: the services to bill, checked against the minutes in session."""
    session = _editable(session_id)
    form = _complete_form(session)
    if form.validate_on_submit():
        try:
            rules.complete_session(session, _line_inputs(form), form.minutes.data, form.time_correction_note.data,
                                   current_user, form.lower_code_reason.data)
        except SessionProblems as error:
            show_problems(form, error.problems)
        else:
            flash("Session marked complete.", "success")
            return see_other(url_for("sessions.show", session_id=session.id))
    return render_page("sessions/complete.html", status=422 if request.method == "POST" else 200, form=form,
                       session=session, outlook=_outlook(session), modifier=rules.suggested_modifier(session), places=rules.PLACES_OF_SERVICE)


@bp.route("/lines/new")
@schedulers
def new_line():
    """One more empty service line for the lines table (htmx appends it)."""
    index = max(0, min(request.args.get("index", 0, type=int), 11))
    line = LineForm(prefix=f"lines-{index}-", units=1, modifiers=request.args.get("modifier", ""))
    return render_page("sessions/_line.html", line=line, index=index,
                       minutes_from=request.args.get("minutes_from") or None)


# ---------------------------------------------------------------- notes and diagnoses


def _note_page(session: TherapySession, form: NoteForm, addendum_form: AddendumForm, status: int = 200,
               codes_: list[str] | None = None, problems: dict[str, str] | None = None):
    """The note page; a diagnosis problem is shown beside the diagnoses, the rest beside their fields."""
    problems = dict(problems or {})
    diagnosis_error = problems.pop("diagnoses", None)
    show_problems(form, {key: value for key, value in problems.items() if key != "addendum"})
    if "addendum" in problems:
        show_problems(addendum_form, {"addendum": problems["addendum"]})
    note = session.note
    chosen = codes_ if codes_ is not None else list(note.diagnosis_codes or []) if note else []
    return render_page("sessions/note.html", status=status, session=session, note=note, form=form,
                       addendum_form=addendum_form, confirm=ConfirmForm(), diagnosis_error=diagnosis_error,
                       chosen=[diagnoses.lookup(code) or diagnoses.Diagnosis(code, "not an ICD-10-CM code", False)
                               for code in chosen])


def _note_session(session_id: int) -> TherapySession:
    session = _session(session_id)
    if not access.may_read_note_text(current_user, session):
        abort(403)
    return session


@bp.route("/<int:session_id>/note", methods=["GET", "POST"])
@schedulers
def note(session_id: int):
    """Write the note and choose up to 12 diagnoses (the session's clinician); admins read it."""
    session = _note_session(session_id)
    form = NoteForm(obj=session.note)
    if request.method == "POST":
        if current_user.id != session.clinician_id:
            abort(403)
        chosen = request.form.getlist("diagnoses")
        problems = {}
        if form.validate():
            try:
                rules.save_note(session, form.body.data, chosen)
            except SessionProblems as error:
                problems = error.problems
            else:
                flash("Note saved.", "success")
                return see_other(url_for("sessions.note", session_id=session.id))
        return _note_page(session, form, AddendumForm(), 422, chosen, problems)
    return _note_page(session, form, AddendumForm())


@bp.route("/<int:session_id>/note/sign", methods=["POST"])
@roles(Role.CLINICIAN)
def sign_note(session_id: int):
    """Sign the note: its diagnoses become the ones claims and superbills use."""
    session = _note_session(session_id)
    try:
        rules.sign_note(session, current_user)
    except SessionProblems as error:
        return _note_page(session, NoteForm(obj=session.note), AddendumForm(), 422, problems=error.problems)
    flash("Note signed. Its diagnoses are now fixed for billing; later changes are addenda.", "success")
    return see_other(url_for("sessions.note", session_id=session.id))


@bp.route("/<int:session_id>/note/addenda", methods=["POST"])
@roles(Role.CLINICIAN)
def add_addendum(session_id: int):
    """Add an addendum to a signed note."""
    session = _note_session(session_id)
    if current_user.id != session.clinician_id:
        abort(403)
    form = AddendumForm()
    chosen = request.form.getlist("addendum_diagnoses")
    try:
        rules.add_addendum(session, current_user, form.addendum.data or "", chosen)
    except SessionProblems as error:
        return _note_page(session, NoteForm(obj=session.note), form, 422, problems=error.problems)
    flash("Addendum added.", "success")
    return see_other(url_for("sessions.note", session_id=session.id))


@diagnoses_bp.route("/search")
@any_member
def search():
    """The diagnosis autocomplete's listbox: codes (with or without the dot) or words of the description."""
    query = request.args.get("q", "")
    return render_page("diagnoses/_options.html", results=diagnoses.search(query, limit=20) if query.strip() else [],
                       query=query, listbox_id=request.args.get("listbox", "diagnosis-listbox"))
