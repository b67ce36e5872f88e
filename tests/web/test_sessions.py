"""Sessions: booking, Mark Session Complete rules (each a 422 beside its line, nothing saved), notes,
signing, addenda, and who may see what."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from app.extensions import db
from app.models import AuditEvent, Role, SessionNote, TherapySession


@pytest.fixture
def setting(make):
    """A practice with a clinician, a client, a catalog and a session that ran 45 minutes yesterday."""
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    client = make.client(practice, primary_clinician_id=clinician.id)
    services = {code: make.service(practice, code, price_cents=price, **extra) for code, price, extra in [
        ("90791", 20000, {}), ("90832", 11000, {}), ("90834", 15000, {}), ("90837", 19000, {}),
        ("90839", 25000, {}), ("90840", 12000, {"bill_in_units": True, "minutes_per_unit": 30}),
        ("90785", 2500, {}), ("96127", 1500, {"repeatable": True}),
        ("H2019", 2200, {"bill_in_units": True, "minutes_per_unit": 15, "repeatable": True})]}
    session = make.session(client, clinician, minutes=45)
    return type("Setting", (), {"practice": practice, "clinician": clinician, "client": client,
                                "services": services, "session": session})


def reload(app, session_id):
    with app.app_context():
        session = db.session.get(TherapySession, session_id)
        data = {"status": session.status, "minutes": session.minutes, "note": session.time_correction_note,
                "lines": [(line.code, line.units, line.price_cents, line.modifiers) for line in session.lines]}
        return data


def complete(client, session, minutes, *lines, note=None):
    data = {"minutes": str(minutes)}
    if note:
        data["time_correction_note"] = note
    for index, line in enumerate(lines):
        code, units, *rest = (*line, None) if isinstance(line, tuple) else (line, 1)
        data[f"lines-{index}-code"] = code
        data[f"lines-{index}-units"] = str(units)
        if rest and rest[0]:
            data[f"lines-{index}-modifiers"] = rest[0]
    return client.post(f"/sessions/{session.id}/complete", data=data)


def test_clinician_marks_a_session_complete_with_its_services(app, client, sign_in, setting):
    sign_in(setting.clinician)
    response = complete(client, setting.session, 45, "90834", ("96127", 2))
    assert response.status_code == 303
    saved = reload(app, setting.session.id)
    assert saved["status"] == "completed"
    assert saved["lines"] == [("90834", 1, 15000, []), ("96127", 2, 1500, [])]


@pytest.mark.parametrize("minutes, lines, field, message", [
    (45, ["90837"], "lines-0-code", "45 minutes is 90834, not 90837"),
    (12, ["90832"], "lines-0-code", "too short"),
    (45, ["90785"], "lines-0-code", "is an add-on"),
    (45, ["90834", "90834"], "lines-1-code", "may be used only once per session"),
    (45, [("90834", 0)], "lines-0-units", "at least 1"),
    (45, [("90834", 2)], "lines-0-units", "billed once per session"),
    (80, ["90839", ("90840", 2)], "lines-1-units", "support 1 unit of 90840"),
    (45, ["99999"], "lines-0-code", "not an enabled service"),
    (45, [("90834", 1, "9")], "lines-0-modifiers", "two letters or digits"),
    (45, [("90834", 1, "95 HO HA 59 XE")], "lines-0-modifiers", "at most 4"),
    (45, [], None, "Add at least one service"),
])
def test_each_rule_is_a_422_beside_its_line_and_nothing_is_saved(app, client, sign_in, setting, minutes, lines,
                                                                 field, message):
    sign_in(setting.clinician)
    response = complete(client, setting.session, minutes, *lines,
                        note="Video dropped" if minutes != 45 else None)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    if field:
        assert f'id="{field}-error"' in html
    saved = reload(app, setting.session.id)
    assert saved["status"] == "scheduled" and saved["lines"] == [] and saved["minutes"] == 45


def test_a_lower_code_is_accepted_only_with_the_clinicians_reason_kept_and_audited(app, client, sign_in, setting,
                                                                                    make):
    sign_in(setting.clinician)
    session = make.session(setting.client, setting.clinician, minutes=53)
    refused = complete(client, session, 53, "90832")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "53 minutes supports 90837, not 90832" in html and 'id="lines-0-code-error"' in html
    assert 'id="lower_code_reason-error"' in html and 'name="lower_code_reason"' in html
    assert reload(app, session.id)["status"] == "scheduled"
    accepted = client.post(f"/sessions/{session.id}/complete", data={
        "minutes": "53", "lines-0-code": "90832", "lines-0-units": "1",
        "lower_code_reason": "Client's plan caps this month's sessions at 90832"})
    assert accepted.status_code == 303
    with app.app_context():
        record = db.session.get(TherapySession, session.id)
        assert record.status == "completed" and record.lower_code_reason.startswith("Client's plan caps")
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "session.lower_code_confirmed"))
        assert event.details["codes"] == ["90832"] and "plan caps" in event.details["reason"]
    assert "plan caps" in client.get(f"/sessions/{session.id}").get_data(as_text=True)


def test_a_code_too_long_for_the_session_shows_one_message(app, client, sign_in, setting):
    sign_in(setting.clinician)
    response = complete(client, setting.session, 45, ("90837", 0))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "45 minutes is 90834, not 90837" in html
    assert "Units must be at least 1" not in html and 'id="lines-0-units-error"' not in html


def test_correcting_the_minutes_needs_a_note_which_is_kept_and_audited(app, client, sign_in, setting):
    sign_in(setting.clinician)
    refused = complete(client, setting.session, 38, "90834")
    assert refused.status_code == 422
    assert 'id="time_correction_note-error"' in refused.get_data(as_text=True)
    response = complete(client, setting.session, 38, "90834", note="Video connection dropped for 7 minutes")
    assert response.status_code == 303
    saved = reload(app, setting.session.id)
    assert saved["minutes"] == 38 and saved["note"] == "Video connection dropped for 7 minutes"
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "session.time_corrected"))
        assert event.details["minutes"] == [45, 38] and "Video connection" in event.details["reason"]


def test_crisis_with_its_extension_units_is_accepted(app, client, sign_in, setting, make):
    session = make.session(setting.client, setting.clinician, minutes=110)
    sign_in(setting.clinician)
    assert complete(client, session, 110, "90839", ("90840", 2)).status_code == 303


def test_telehealth_sessions_suggest_the_payers_modifier(app, client, sign_in, setting, make):
    payer = make.payer(setting.practice, telehealth_modifier="GT")
    make.policy(setting.client, payer)
    session = make.session(setting.client, setting.clinician, minutes=45, modality="video", place_of_service="10")
    sign_in(setting.clinician)
    html = client.get(f"/sessions/{session.id}/complete").get_data(as_text=True)
    assert 'name="lines-0-modifiers" type="text" value="GT"' in html or 'value="GT"' in html
    assert "modifier GT" in html


def test_another_clinicians_session_is_404_and_billers_cannot_complete(app, client, sign_in, setting, make):
    other = make.member(setting.practice, Role.CLINICIAN)
    sign_in(other)
    assert client.get(f"/sessions/{setting.session.id}").status_code == 404
    assert complete(client, setting.session, 45, "90834").status_code == 404
    sign_in(make.member(setting.practice, Role.BILLER))
    assert client.get(f"/sessions/{setting.session.id}").status_code == 200
    assert complete(client, setting.session, 45, "90834").status_code == 403


def test_admins_may_complete_any_session(app, client, sign_in, setting, make):
    sign_in(make.member(setting.practice, Role.ADMIN))
    assert complete(client, setting.session, 45, "90834").status_code == 303


def test_session_list_shows_a_clinician_only_their_own_sessions(app, client, sign_in, setting, make):
    other = make.member(setting.practice, Role.CLINICIAN)
    other_client = make.client(setting.practice, first_name="Zed", primary_clinician_id=other.id)
    make.session(other_client, other, minutes=50)
    day = (datetime.now(timezone.utc) - timedelta(days=1)).astimezone().date().isoformat()
    sign_in(setting.clinician)
    html = client.get(f"/sessions?date={day}&view=week").get_data(as_text=True)
    assert setting.client.first_name in html and "Zed" not in html
    sign_in(make.member(setting.practice, Role.BILLER))
    html = client.get(f"/sessions?date={day}&view=week").get_data(as_text=True)
    assert setting.client.first_name in html and "Zed" in html


def test_booking_a_session(app, client, sign_in, setting):
    sign_in(setting.clinician)
    response = client.post("/sessions/new", data={
        "client_id": setting.client.id, "clinician_id": setting.clinician.id, "day": "2026-12-01",
        "start_time": "10:00", "end_time": "10:53", "modality": "video", "place_of_service": "10"})
    assert response.status_code == 303
    with app.app_context():
        session = db.session.scalar(db.select(TherapySession).order_by(TherapySession.id.desc()))
        assert (session.minutes, session.modality, session.place_of_service, session.status) == (
            53, "video", "10", "scheduled")
        assert session.starts_at.astimezone(timezone.utc).hour == 15  # 10:00 Eastern is 15:00 UTC in December


def selected(html: str, name: str) -> str:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.search(r'<option selected value="([^"]*)"', select).group(1)


def test_the_booking_form_saves_unchanged_and_its_modality_moves_the_place_of_service(app, client, sign_in,
                                                                                        setting):
    sign_in(setting.clinician)
    html = client.get(f"/sessions/new?client={setting.client.id}").get_data(as_text=True)
    assert (selected(html, "modality"), selected(html, "place_of_service")) == ("in_person", "11")
    # What app/static/places.js reads to move the place of service (browser test: test_sessions.py).
    assert 'data-places="{&#34;in_person&#34;: &#34;11&#34;, &#34;video&#34;: &#34;10&#34;' in html
    assert 'data-places-for="place_of_service"' in html and "places.js" in html
    response = client.post("/sessions/new", data={
        "client_id": selected(html, "client_id"), "clinician_id": selected(html, "clinician_id"),
        "day": "2026-12-01", "start_time": "10:00", "end_time": "10:53",
        "modality": selected(html, "modality"), "place_of_service": selected(html, "place_of_service")})
    assert response.status_code == 303


def test_the_lines_table_labels_each_column_once(client, sign_in, setting):
    sign_in(setting.clinician)
    html = client.get(f"/sessions/{setting.session.id}/complete").get_data(as_text=True)
    assert html.count('<th scope="col">Description</th>') == 1
    assert '<label class="visually-hidden" for="lines-0-description">Description for line 1</label>' in html
    assert re.search(r'<label for="lines-0-(description|units|price|modifiers)">', html) is None


@pytest.mark.parametrize("changes, field, message", [
    ({"end_time": "09:00"}, "end_time", "end after it starts"),
    ({"modality": "video", "place_of_service": "11"}, "place_of_service", "telehealth session needs"),
    ({"modality": "in_person", "place_of_service": "10"}, "place_of_service", "are for telehealth"),
])
def test_bad_bookings_are_422_and_nothing_is_booked(app, client, sign_in, setting, changes, field, message):
    sign_in(setting.clinician)
    data = {"client_id": setting.client.id, "clinician_id": setting.clinician.id, "day": "2026-12-01",
            "start_time": "10:00", "end_time": "10:53", "modality": "in_person", "place_of_service": "11", **changes}
    response = client.post("/sessions/new", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(TherapySession.id))) == 1


def test_paid_in_advance_booking_shows_a_review_step_then_books_with_the_lines(app, client, sign_in, setting, make):
    make.service(setting.practice, "96130", price_cents=30000, requires_advance_payment=True,
                 name="Psychological testing evaluation")
    sign_in(setting.clinician)
    booking = {"client_id": setting.client.id, "clinician_id": setting.clinician.id, "day": "2026-12-02",
               "start_time": "09:00", "end_time": "10:00", "modality": "in_person", "place_of_service": "11",
               "service": "96130"}
    review = client.post("/sessions/new", data=booking)
    assert review.status_code == 200
    html = review.get_data(as_text=True)
    assert "Review what will be billed in advance" in html and 'value="96130"' in html and 'value="300.00"' in html
    confirmed = client.post("/sessions/new", data={**booking, "confirm": "1", "lines-0-code": "96130",
                                                   "lines-0-description": "Testing evaluation, first hour",
                                                   "lines-0-units": "1", "lines-0-price": "280.00"})
    assert confirmed.status_code == 303
    with app.app_context():
        session = db.session.scalar(db.select(TherapySession).order_by(TherapySession.id.desc()))
        assert session.booked_service_id is not None
        assert [(l.code, l.description, l.price_cents) for l in session.lines] == [
            ("96130", "Testing evaluation, first hour", 28000)]


def test_a_service_not_paid_in_advance_is_422_on_the_booking(app, client, sign_in, setting):
    sign_in(setting.clinician)
    response = client.post("/sessions/new", data={
        "client_id": setting.client.id, "clinician_id": setting.clinician.id, "day": "2026-12-02",
        "start_time": "09:00", "end_time": "10:00", "modality": "in_person", "place_of_service": "11",
        "service": "90834"})
    assert response.status_code == 422
    assert 'id="service-error"' in response.get_data(as_text=True)


# ---------------------------------------------------------------- notes


def note_of(app, session_id):
    with app.app_context():
        note = db.session.scalar(db.select(SessionNote).where(SessionNote.session_id == session_id))
        if note is None:
            return None
        db.session.expunge(note)
        return note


@pytest.mark.parametrize("codes, message", [
    (["F43.8"], "category, not a billable code"),
    (["F41.1", "F41.1"], "more than once"),
    (["Z99.9X"], "not an ICD-10-CM code"),
    ([f"F4{n}.{m}" for n in (0, 1) for m in range(10)][:13], "at most 12"),
])
def test_note_diagnoses_must_be_billable_icd10_codes(app, client, sign_in, setting, codes, message):
    sign_in(setting.clinician)
    response = client.post(f"/sessions/{setting.session.id}/note", data={"body": "Talked.", "diagnoses": codes})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="diagnoses-error"' in html and message in html
    assert note_of(app, setting.session.id) is None


def test_signing_freezes_the_diagnoses_and_addenda_never_change_them(app, client, sign_in, setting):
    sign_in(setting.clinician)
    url = f"/sessions/{setting.session.id}/note"
    assert client.post(url, data={"body": "Worked on sleep.", "diagnoses": ["f411", "F32.A"]}).status_code == 303
    assert client.post(f"{url}/sign").status_code == 303
    note = note_of(app, setting.session.id)
    assert [entry["code"] for entry in note.signed_diagnoses] == ["F41.1", "F32.A"]
    assert note.signed_diagnoses[0]["description"].startswith("Generalized anxiety")
    assert client.post(url, data={"body": "Changed my mind", "diagnoses": ["F43.10"]}).status_code == 422
    response = client.post(f"{url}/addenda", data={"addendum": "Trauma history disclosed later.",
                                                   "addendum_diagnoses": ["F43.10"]})
    assert response.status_code == 303
    after = note_of(app, setting.session.id)
    assert after.signed_diagnoses == note.signed_diagnoses and after.body == "Worked on sleep."
    with app.app_context():
        actions = db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert {"note.diagnoses_changed", "note.signed", "note.addendum_added"} <= set(actions)


def test_only_the_sessions_clinician_signs(app, client, sign_in, setting, make):
    make.note(setting.session)
    sign_in(make.member(setting.practice, Role.ADMIN))
    assert client.post(f"/sessions/{setting.session.id}/note/sign").status_code == 403
    assert note_of(app, setting.session.id).signed_at is None


def test_diagnosis_search_marks_categories_as_not_billable(client, sign_in, setting):
    sign_in(setting.clinician)
    html = client.get("/diagnoses/search?q=F43.8").get_data(as_text=True)
    assert 'data-code="F43.8"' in html
    header = html.split('data-code="F43.8"')[0].rsplit("<li", 1)[1]
    assert 'aria-disabled="true"' in header
    for query in ("F411", "F41.1", "gener anx"):
        assert 'data-code="F41.1"' in client.get(f"/diagnoses/search?q={query}").get_data(as_text=True)
    assert 'aria-disabled' not in client.get("/diagnoses/search?q=F32.A").get_data(as_text=True).split("</li>")[0]
