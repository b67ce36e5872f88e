"""On the demo practice, a biller issues a Good Faith Estimate for a self-pay client and opens it, then prints a
claim on the CMS-1500 from its claim page."""
import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

pytestmark = pytest.mark.browser


def pdf_text(page, href: str) -> str:
    """The PDF a link opens, fetched with the page's own sign-in (headless chromium downloads PDFs)."""
    response = page.context.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    return "\n".join(each.extract_text() for each in PdfReader(io.BytesIO(response.body())).pages)


def test_a_biller_issues_a_good_faith_estimate_and_prints_a_claim_on_the_cms1500(page, live_server):
    from app import seed
    from app.extensions import db

    with live_server.app_context():
        seed.seed_demo()
        db.session.commit()

    page.goto("/login")
    page.get_by_label("Email").fill("biller@demo.parity")
    page.get_by_label("Password").fill(seed.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))

    # Nora pays for herself: a year of sessions every two weeks after an intake.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    page.get_by_role("link", name="Lindqvist, Nora").click()
    page.locator("#new-estimate").click()
    expect(page.get_by_role("heading", name="Good Faith Estimate")).to_be_visible()
    page.get_by_label("Times of 90791").fill("1")
    page.get_by_label("How often for 90791").select_option("once")
    page.get_by_label("Times of 90834").fill("26")
    page.get_by_label("How often for 90834").select_option("every_two_weeks")
    page.get_by_label("Diagnosis codes, when known").fill("F41.1")
    page.get_by_role("button", name="Issue the estimate").click()
    expect(page.get_by_text(re.compile(r"Good Faith Estimate GFE-\d+ issued\."))).to_be_visible()
    estimates = page.locator("#client-estimates")
    expect(estimates).to_contain_text("$4,100.00")
    link = estimates.get_by_role("link", name=re.compile(r"GFE-\d+ \(PDF\)"))
    text = pdf_text(page, link.get_attribute("href"))
    assert "Nora Lindqvist" in text and "$4,100.00" in text and "$400 or more" in text

    # A claim of the demo on paper, from its claim page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Claims").click()
    page.get_by_role("link", name=re.compile(r"^P\d+C\d+$")).first.click()
    expect(page).to_have_url(re.compile(r"/claims/\d+$"))
    pcn = page.locator("h1").inner_text().split()[1]
    cms1500 = page.get_by_role("link", name="CMS-1500 (paper)")
    expect(cms1500).to_be_visible()
    text = pdf_text(page, cms1500.get_attribute("href"))
    assert "HEALTH INSURANCE CLAIM FORM" in text and pcn in text and "SIGNATURE ON FILE" in text
    data_only = pdf_text(page, page.get_by_role("link", name="CMS-1500 data for the red form").get_attribute("href"))
    assert pcn in data_only and "HEALTH INSURANCE CLAIM FORM" not in data_only
