"""Clinical note text is never shown to billers: not in any page or fragment a biller can open."""
from app.authz import SCOPED_ARGS
from app.models import Role
from tests.web.test_route_protection import PUBLIC_ENDPOINTS, routes, url_for_rule

SECRET = "Client disclosed XYZZY-PRIVATE details"
ADDENDUM = "Addendum PLUGH-PRIVATE text"


def readable_text(response) -> str:
    """What a person could read in the response: PDFs are read back as text, everything else decoded."""
    if response.mimetype == "application/pdf":
        import io

        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    return response.get_data(as_text=True)


def test_billers_never_see_note_text_on_any_route(app, client, make, sign_in):
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    patient = make.client(practice, primary_clinician_id=clinician.id)
    session = make.session(patient, clinician)
    note = make.note(session, body=SECRET)
    from app.extensions import db
    from app.models import NoteAddendum, SessionNote
    from app.models.types import utcnow

    with app.app_context():
        record = db.session.get(SessionNote, note.id)
        record.signed_at, record.signed_by_id = utcnow(), clinician.id
        record.signed_diagnoses = [{"code": "F41.1", "description": "Generalized anxiety disorder"}]
        db.session.add(NoteAddendum(practice_id=practice.id, note_id=note.id, author_id=clinician.id, body=ADDENDUM))
        db.session.commit()
    records = {argument: make.for_model(model, practice) for argument, model in SCOPED_ARGS.items()}
    records |= {"session_id": session, "client_id": patient}
    biller = make.member(practice, Role.BILLER)
    sign_in(biller)
    opened = 0
    for endpoint, rule, method in routes(app):
        if method != "GET" or endpoint in PUBLIC_ENDPOINTS:
            continue
        # Views members reach (not /metrics, which answers a bearer token only), and a biller may open.
        if Role.BILLER not in getattr(app.view_functions[endpoint], "allowed_roles", ()):
            continue
        for query in ("", "?q=XYZZY", "?view=week"):
            response = client.get(url_for_rule(rule, records) + query)
            body = readable_text(response)
            assert "XYZZY" not in body.replace("q=XYZZY", "").replace("“XYZZY”", "").replace('value="XYZZY"', ""), \
                endpoint
            assert "PLUGH" not in body, endpoint
            opened += 1
    assert opened > 10
    # The session page shows billers the signed diagnoses they bill with, but not the note.
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "F41.1" in page and "XYZZY" not in page
    assert client.get(f"/sessions/{session.id}/note").status_code == 403


def test_the_treating_clinician_reads_the_note(app, client, make, sign_in):
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    session = make.session(make.client(practice, primary_clinician_id=clinician.id), clinician)
    make.note(session, body=SECRET)
    sign_in(clinician)
    assert SECRET in client.get(f"/sessions/{session.id}/note").get_data(as_text=True)
