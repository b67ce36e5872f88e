"""A clinician fixes a code on a Pended bill with the keyboard, opens the bill and downloads the superbill."""
import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from app.models import Role
from tests.browser.test_sessions import tab_to
from tests.browser.test_sign_in import sign_in
from tests.support.factories import Factory

pytestmark = pytest.mark.browser


def test_clinician_changes_90834_to_90837_opens_the_bill_and_downloads_the_superbill(page, live_server):
    from app.billing import bills
    from app.extensions import db
    from app.models import Practice, TherapySession

    make = Factory(live_server)
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN, name="Casey Clinician")
    client = make.client(practice, primary_clinician_id=clinician.id, first_name="Robin", last_name="Hale")
    services = {code: make.service(practice, code, price_cents=price, name=f"Psychotherapy {code}",
                                   description=f"Individual psychotherapy {code}")
                for code, price in (("90834", 15000), ("90837", 19000))}
    session = make.session(client, clinician, minutes=55, status="completed")
    make.line(session, services["90834"])
    make.note(session, diagnosis_codes=["F41.1"], signed_diagnoses=[
        {"code": "F41.1", "description": "Generalized anxiety disorder"}])
    with live_server.app_context():
        bill = bills.create_from_sessions(db.session.get(Practice, practice.id),
                                          [db.session.get(TherapySession, session.id)])
        db.session.commit()
        bill_id, line_id = bill.id, bill.lines[0].id

    sign_in(page, clinician.email)
    page.goto(f"/bills/{bill_id}")
    expect(page.locator("#bill-balance")).to_have_text("$150.00")
    tab_to(page, f"#line-{line_id}-code")
    page.keyboard.press("Control+A")
    page.keyboard.type("90837")
    listbox = page.get_by_role("listbox")
    expect(listbox.get_by_role("option").first).to_contain_text("90837")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator(f"#line-{line_id}-description")).to_have_value("Individual psychotherapy 90837")
    page.keyboard.press("Enter")  # the listbox is closed: Enter saves the line through htmx
    expect(page.locator("#bill-balance")).to_have_text("$190.00")
    expect(page.locator(f"#bill-line-{line_id}-charge")).to_have_text("$190.00")

    tab_to(page, "form[action$='/open'] button")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Open", exact=True)).to_be_visible()
    with page.expect_download() as download_info:
        tab_to(page, "a[href$='/superbill.pdf']")
        page.keyboard.press("Enter")
    download = download_info.value
    assert re.fullmatch(r"superbill-.+\.pdf", download.suggested_filename)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(open(download.path(), "rb").read())).pages)
    for expected in ("90837", "F41.1", "Robin", "Hale", clinician.npi, "$190.00"):
        assert expected in text, expected
