"""PDF documents rendered from plain data: read each PDF back and check what it prints.

No app, database or request here: the documents must render the way a worker job renders them.
"""
import io
import re
import threading
import time
from dataclasses import FrozenInstanceError
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import weasyprint
from pypdf import PdfReader

from app import documents
from app.documents import (BillDocument, DataUriOnlyFetcher, Diagnosis, DocumentLine, InsuranceInfo, Party,
                           PaymentEntry, ProviderIdentity, StatementDocument, StatementEntry, SuperbillDocument,
                           UrlRefused, render_bill_pdf, render_statement_pdf, render_superbill_pdf)

# ---------------------------------------------------------------- realistic data


def practice(**changes) -> ProviderIdentity:
    values = dict(legal_name="Harborview Counseling Group, LLC", tax_id="123456789", group_npi="2000000002",
                  taxonomy="261QM0801X", address_lines=["1200 Massachusetts Ave, Suite 4", "Cambridge, MA 021394307"],
                  phone="6175550142", clinician_name="Casey Morgan, LMHC", clinician_npi="1234567893",
                  clinician_taxonomy="101YM0800X")
    return ProviderIdentity(**{**values, **changes})


DIAGNOSES = [Diagnosis("F41.1", "Generalized anxiety disorder"), Diagnosis("F32.A", "Depression, unspecified")]
GUARDIAN = Party("Jordan Rivera", ["45 Elm Street, Apt 2", "Somerville, MA 021441234"], "6175550199",
                 "jordan@example.com")
REMIT_TO = ["Harborview Counseling Group", "PO Box 381", "Cambridge, MA 021390381"]

SESSION_LINES = [
    DocumentLine(date(2026, 11, 2), "10", "90837", ("95",), 1, "Psychotherapy, 60 minutes", 16000, (1, 2)),
    DocumentLine(date(2026, 11, 9), "11", "90834", (), 1, "Psychotherapy, 45 minutes", 13000, (1,)),
    DocumentLine(date(2026, 11, 9), "11", "96127", ("59",), 2, "Brief standardized screening", 1500, (2,)),
    DocumentLine(date(2026, 11, 16), "10", "90832", ("95", "HO"), 1, "Psychotherapy, 30 minutes", 9000, (1,)),
]


def bill(lines=SESSION_LINES, **changes) -> BillDocument:
    total = sum(line.charge_cents for line in lines)
    values = dict(number="B-2026-0042", status="open", issued_on=date(2026, 11, 23), due_on=date(2026, 12, 23),
                  provider=practice(), bill_to=GUARDIAN, client_name="Alex Rivera",
                  client_date_of_birth=date(2011, 3, 14), lines=lines, total_charges_cents=total,
                  total_payments_cents=15000, total_adjustments_cents=2000, balance_cents=total - 17000,
                  diagnoses=DIAGNOSES,
                  payments=[PaymentEntry(date(2026, 11, 24), "Card payment (ref 1234)", 15000),
                            PaymentEntry(date(2026, 11, 25), "Adjustment: courtesy", 2000)],
                  remit_to_lines=REMIT_TO, message="Questions about this bill? Call us at (617) 555-0142.",
                  payment_terms="Due within 30 days of the bill date.")
    return BillDocument(**{**values, **changes})


def superbill(**changes) -> SuperbillDocument:
    values = dict(provider=practice(), client=Party("Alex Rivera", ["45 Elm Street, Apt 2", "Somerville, MA 021441234"],
                                                    "6175550199"),
                  client_date_of_birth=date(2011, 3, 14), lines=SESSION_LINES, diagnoses=DIAGNOSES,
                  total_charges_cents=39500, amount_paid_cents=15000, issued_on=date(2026, 11, 30),
                  insurance=InsuranceInfo("Blue Cross Blue Shield of Massachusetts", "XYZ123456789", "G-99812"),
                  bill_number="B-2026-0042")
    return SuperbillDocument(**{**values, **changes})


STATEMENT_ENTRIES = [
    StatementEntry(date(2026, 11, 2), "Bill B-2026-0040: psychotherapy", 16000, None, 18500),
    StatementEntry(date(2026, 11, 5), "Card payment (ref 1234)", None, 16000, 2500),
    StatementEntry(date(2026, 11, 9), "Bill B-2026-0041: psychotherapy", 13000, None, 15500),
    StatementEntry(date(2026, 11, 12), "Insurance payment", None, 9000, 6500),
    StatementEntry(date(2026, 11, 20), "Adjustment: courtesy", None, 1500, 5000),
]


def statement(**changes) -> StatementDocument:
    values = dict(provider=practice(), period_start=date(2026, 11, 1), period_end=date(2026, 11, 30),
                  issued_on=date(2026, 12, 1), bill_to=GUARDIAN, client_name="Alex Rivera", opening_balance_cents=2500,
                  entries=STATEMENT_ENTRIES, closing_balance_cents=5000, remit_to_lines=REMIT_TO)
    return StatementDocument(**{**values, **changes})


def pages_text(pdf: bytes) -> list[str]:
    """Each page's text with runs of whitespace collapsed, so assertions don't depend on line wrapping."""
    assert pdf.startswith(b"%PDF-")
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def superbill_pages():
    return pages_text(render_superbill_pdf(superbill()))


@pytest.fixture(scope="module")
def bill_pages():
    return pages_text(render_bill_pdf(bill()))


@pytest.fixture(scope="module")
def statement_pages():
    return pages_text(render_statement_pdf(statement()))


# ---------------------------------------------------------------- superbill


@pytest.mark.parametrize("expected", [
    "Submit this form to your insurance company for reimbursement.",
    "Harborview Counseling Group, LLC",
    "Tax ID (EIN) 12-3456789",
    "Group NPI 2000000002",
    "261QM0801X (Mental health clinic)",
    "1200 Massachusetts Ave, Suite 4 Cambridge, MA 02139-4307",
    "Casey Morgan, LMHC",
    "Individual NPI 1234567893",
    "101YM0800X (Mental health counselor)",
    "Name Alex Rivera",
    "Date of birth Mar 14, 2011",
    "Somerville, MA 02144-1234",
    "(617) 555-0199",
    "Dates of service Nov 2, 2026 Nov 9, 2026 Nov 16, 2026",
    "Insurer Blue Cross Blue Shield of Massachusetts",
    "Member ID XYZ123456789",
    "Group G-99812",
    "A F41.1 Generalized anxiety disorder",
    "B F32.A Depression, unspecified",
    "10 – Telehealth, client at home",
    "11 – Office",
    "Total charges $395.00",
    "Amount paid $150.00",
    "Balance due $245.00",
    "Signature",
    "Date",
])
def test_does_the_superbill_print_what_an_insurer_needs(superbill_pages, expected):
    assert expected in superbill_pages[0]


@pytest.mark.parametrize("row", [
    "11/02/2026 10 90837 95 1 A B Psychotherapy, 60 minutes $160.00",
    "11/09/2026 11 90834 1 A Psychotherapy, 45 minutes $130.00",
    "11/09/2026 11 96127 59 2 B Brief standardized screening $15.00",
    "11/16/2026 10 90832 95 HO 1 A Psychotherapy, 30 minutes $90.00",
])
def test_does_each_superbill_line_print_date_pos_code_modifiers_units_pointers_and_charge(superbill_pages, row):
    assert row in superbill_pages[0]


def test_does_the_superbill_signature_line_name_the_clinician(superbill_pages):
    assert re.search(r"Signature Date Casey Morgan, LMHC, NPI 1234567893", superbill_pages[0])


def test_does_a_superbill_without_insurance_leave_the_insurance_block_out():
    text = pages_text(render_superbill_pdf(superbill(insurance=None)))[0]
    assert "Member ID" not in text and "Insurer" not in text
    assert "F41.1" in text


def test_does_a_solo_clinician_billing_under_an_ssn_print_it_as_an_ssn():
    provider = practice(legal_name="Casey Morgan, LMHC", tax_id="123456789", tax_id_is_ssn=True, group_npi="",
                        taxonomy="")
    text = pages_text(render_superbill_pdf(superbill(provider=provider)))[0]
    assert "Tax ID (SSN) 123-45-6789" in text
    assert "Group NPI" not in text


def test_does_a_superbill_with_many_dates_print_the_range():
    lines = [DocumentLine(date(2026, 9, day), "11", "90834", (), 1, "Psychotherapy, 45 minutes", 13000, (1,))
             for day in (1, 8, 15, 22, 29)]
    text = pages_text(render_superbill_pdf(superbill(lines=lines, total_charges_cents=65000)))[0]
    assert "Dates of service Sep 1, 2026 – Sep 29, 2026 (5 dates)" in text


# ---------------------------------------------------------------- bill


@pytest.mark.parametrize("expected", [
    "Harborview Counseling Group, LLC",
    "Tax ID 12-3456789 · NPI 2000000002",
    "Bill number B-2026-0042",
    "Bill date Nov 23, 2026",
    "Due date Dec 23, 2026",
    "Amount due $225.00",
    "Jordan Rivera",
    "Name Alex Rivera",
    "Date of birth Mar 14, 2011",
    "PO Box 381 Cambridge, MA 02139-0381",
    "Nov 2, 2026 Psychotherapy, 60 minutes 90837 95 1 A B $160.00",
    "Nov 9, 2026 Brief standardized screening 96127 59 2 B $15.00",
    "Nov 24, 2026 Card payment (ref 1234) -$150.00",
    "Nov 25, 2026 Adjustment: courtesy -$20.00",
    "Total charges $395.00",
    "Payments -$150.00",
    "Adjustments -$20.00",
    "Balance due $225.00",
    "A F41.1 Generalized anxiety disorder",
    "Due within 30 days of the bill date.",
    "Questions about this bill?",
    "Page 1 of 1",
])
def test_does_the_bill_print_its_number_lines_payments_and_balance(bill_pages, expected):
    assert expected in bill_pages[0]


def test_does_an_overpaid_bill_show_credit_instead_of_a_balance():
    text = pages_text(render_bill_pdf(bill(total_payments_cents=42000, total_adjustments_cents=0,
                                           balance_cents=-2500)))[0]
    assert "Credit on account $25.00" in text
    assert "Balance due" not in text
    assert "Amount due $0.00" in text


@pytest.mark.parametrize("status, stamp", [("void", "Void – this bill was cancelled"), ("Void", "Void – this bill"),
                                           ("pended", "Draft – not yet issued"), ("complete", "Paid in full")])
def test_does_a_bill_that_is_not_open_say_so(status, stamp):
    assert stamp in pages_text(render_bill_pdf(bill(status=status)))[0]


def test_does_an_open_bill_carry_no_stamp(bill_pages):
    assert not any(stamp in bill_pages[0] for stamp in ("Void", "Draft", "Paid in full"))


def test_does_a_forty_line_bill_span_pages_numbered_in_the_footer():
    lines = [DocumentLine(date(2026, 1 + index // 4, 1 + index % 4 * 7), "11", "90834", (), 1,
                          f"Psychotherapy, 45 minutes (session {index + 1})", 13000, (1,)) for index in range(40)]
    pages = pages_text(render_bill_pdf(bill(lines=lines, total_charges_cents=520000, balance_cents=503000)))
    assert len(pages) >= 2
    assert f"Page 2 of {len(pages)}" in pages[1]
    assert f"Page 1 of {len(pages)}" in pages[0]
    assert "Bill B-2026-0042 · Alex Rivera" in pages[-1]  # the running footer names the bill on every page
    assert "Date of service Description Code" in pages[1]  # the table header repeats
    whole = " ".join(pages)
    assert all(f"(session {number})" in whole for number in range(1, 41))
    assert "Balance due $5,030.00" in pages[-1]


def test_is_text_a_client_typed_printed_literally_rather_than_as_markup():
    name = '<img src="http://127.0.0.1:9/x.png"> <b>Alex</b>'
    text = pages_text(render_bill_pdf(bill(client_name=name)))[0]
    assert name in text


def test_does_the_pdf_carry_a_title_naming_the_document():
    reader = PdfReader(io.BytesIO(render_bill_pdf(bill())))
    assert reader.metadata.title == "Bill – Harborview Counseling Group, LLC"


def test_does_rendering_a_one_page_bill_take_reasonable_time(capsys):
    render_bill_pdf(bill())  # fonts are loaded once per process; time the second render
    started = time.perf_counter()
    pdf = render_bill_pdf(bill())
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n[documents] one-page bill rendered in {elapsed * 1000:.0f} ms ({len(pdf)} bytes)")
    assert len(pages_text(pdf)) == 1


# ---------------------------------------------------------------- statement


def test_does_the_statement_print_each_entry_with_its_running_balance(statement_pages):
    text = statement_pages[0]
    rows = ["Nov 1, 2026 Opening balance $25.00",
            "Nov 2, 2026 Bill B-2026-0040: psychotherapy $160.00 $185.00",
            "Nov 5, 2026 Card payment (ref 1234) $160.00 $25.00",
            "Nov 9, 2026 Bill B-2026-0041: psychotherapy $130.00 $155.00",
            "Nov 12, 2026 Insurance payment $90.00 $65.00",
            "Nov 20, 2026 Adjustment: courtesy $15.00 $50.00",
            "Nov 30, 2026 Closing balance $50.00"]
    positions = [text.find(row) for row in rows]
    assert -1 not in positions, [row for row, at in zip(rows, positions) if at == -1]
    assert positions == sorted(positions)


@pytest.mark.parametrize("expected", [
    "Statement date Dec 1, 2026",
    "Period Nov 1, 2026 – Nov 30, 2026",
    "Jordan Rivera",
    "Alex Rivera",
    "Charges $290.00",
    "Payments and credits -$265.00",
    "Amount due $50.00",
])
def test_does_the_statement_print_period_parties_and_summary(statement_pages, expected):
    assert expected in statement_pages[0]


def test_does_a_statement_show_credit_on_account():
    text = pages_text(render_statement_pdf(statement(closing_balance_cents=-1000, credit_on_account_cents=1000)))[0]
    assert "Credit on account $10.00" in text
    assert "Amount due $0.00" in text


def test_does_a_quiet_period_say_there_was_no_activity():
    text = pages_text(render_statement_pdf(statement(entries=[], closing_balance_cents=2500)))[0]
    assert "No activity in this period." in text


# ---------------------------------------------------------------- the URL fetcher


@pytest.mark.parametrize("url", ["http://example.com/logo.png", "https://example.com/style.css", "file:///etc/passwd",
                                 "FILE:///etc/hostname", "ftp://example.com/x", "HTTP://example.com/x"])
def test_does_the_fetcher_refuse_anything_but_data_uris(url):
    with pytest.raises(UrlRefused):
        DataUriOnlyFetcher()(url)


def test_does_the_fetcher_serve_data_uris():
    response = DataUriOnlyFetcher()("data:text/plain;base64,aGVsbG8=")
    assert response.read() == b"hello"


class _CountingHandler(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - the name http.server calls
        type(self).hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def listening_server():
    """A local HTTP server that records every request it receives."""
    _CountingHandler.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _CountingHandler.hits
    server.shutdown()
    server.server_close()


def _html_pointing_at(base: str) -> str:
    return (f'<html><head><link rel="stylesheet" href="{base}/style.css">'
            f'<style>@import url("{base}/import.css"); body {{ background: url("{base}/bg.png") }}</style></head>'
            f'<body><img src="{base}/logo.png"><p>Hello</p></body></html>')


def test_does_a_document_that_points_at_a_server_never_contact_it(listening_server):
    base, hits = listening_server
    pdf = documents.html_to_pdf(_html_pointing_at(base))
    assert "Hello" in pages_text(pdf)[0]
    assert hits == []


def test_would_the_server_notice_if_weasyprint_fetched_with_its_default_fetcher(listening_server):
    """The control for the test above: without our fetcher, WeasyPrint does contact the server."""
    base, hits = listening_server
    weasyprint.HTML(string=_html_pointing_at(base)).write_pdf()
    assert "/logo.png" in hits


# ---------------------------------------------------------------- formatting and the dataclasses


@pytest.mark.parametrize("cents, text", [(0, "$0.00"), (5, "$0.05"), (15000, "$150.00"), (123456789, "$1,234,567.89"),
                                         (-2000, "-$20.00"), (None, "")])
def test_is_money_written_in_dollars_with_grouping(cents, text):
    assert documents.money(cents) == text


@pytest.mark.parametrize("value, text", [(date(2026, 11, 23), "Nov 23, 2026"), (date(2026, 3, 4), "Mar 4, 2026"),
                                         ("2011-03-14", "Mar 14, 2011"), (None, "")])
def test_are_dates_written_month_day_year(value, text):
    assert documents.long_date(value) == text


@pytest.mark.parametrize("line, text", [("Cambridge, MA 021394307", "Cambridge, MA 02139-4307"),
                                        ("Cambridge, MA 02139-4307", "Cambridge, MA 02139-4307"),
                                        ("Cambridge, MA 02139", "Cambridge, MA 02139"),
                                        ("1200 Massachusetts Ave", "1200 Massachusetts Ave")])
def test_is_a_zip_plus_four_written_with_its_dash(line, text):
    assert documents.address_line(line) == text


@pytest.mark.parametrize("value, is_ssn, text", [("123456789", False, "12-3456789"), ("12-3456789", False, "12-3456789"),
                                                 ("123456789", True, "123-45-6789"), ("12345", False, "12345")])
def test_are_tax_ids_written_as_forms_print_them(value, is_ssn, text):
    assert documents.tax_id(value, is_ssn) == text


def test_are_diagnosis_pointers_letters_as_on_a_claim_form():
    assert documents.pointer_letters((1, 2, 12)) == "A B L"


def test_are_documents_frozen_with_lists_turned_into_tuples():
    document = bill(lines=list(SESSION_LINES))
    assert isinstance(document.lines, tuple) and isinstance(document.provider.address_lines, tuple)
    with pytest.raises(FrozenInstanceError):
        document.balance_cents = 0


def test_does_a_render_function_refuse_the_wrong_document():
    with pytest.raises(TypeError):
        render_superbill_pdf(bill())


def estimate(**changes) -> documents.EstimateDocument:
    values = dict(number="GFE-7", issued_on=date(2026, 12, 3), period_start=date(2026, 12, 7),
                  period_end=date(2027, 12, 6), provider=practice(),
                  client=Party("Alex Rivera", ["45 Elm Street", "Somerville, MA 021441234"]),
                  client_date_of_birth=date(1990, 3, 14),
                  lines=[documents.EstimateLine("90791", "Intake evaluation", "Once", 1, 20000, 20000),
                         documents.EstimateLine("90834", "Psychotherapy, 45 minutes", "Every two weeks", 24, 15000,
                                                360000)],
                  diagnoses=[], total_cents=380000)
    return documents.EstimateDocument(**{**values, **changes})


def test_does_a_good_faith_estimate_print_its_services_and_the_dispute_right():
    text = " ".join(pages_text(documents.render_estimate_pdf(estimate()))).replace("- ", "-")
    for expected in ("GFE-7", "Alex Rivera", "Intake evaluation", "Every two weeks", "$3,600.00", "$3,800.00",
                     "Casey Morgan, LMHC", "1234567893", "12-3456789", "Not known yet", "only an estimate",
                     "$400 or more above this Good Faith Estimate", "patient-provider dispute resolution"):
        assert expected in text, expected
    with pytest.raises(TypeError):
        documents.render_estimate_pdf(bill())


def test_does_the_cms1500_grid_place_each_value_where_the_red_form_has_it():
    sheet = documents.FormSheet(reference="P1C1", page=1, pages=1, fields=[
        documents.FormField("1a", 8, 50, "HHP987654"), documents.FormField("2", 10, 1, "RIVERA, ALEX")])
    plain = documents.render_cms1500_pdf([sheet], boxes=(), checks=(), full=False)
    moved = documents.render_cms1500_pdf([sheet], boxes=(), checks=(), full=False, offset_mm=(25.4, 0))
    def visit(found):
        def visitor(text, cm, tm, font, size):
            if text.strip():
                found[text.strip()] = (tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5])
        return visitor

    plain_at, moved_at = {}, {}
    PdfReader(io.BytesIO(plain)).pages[0].extract_text(visitor_text=visit(plain_at))
    PdfReader(io.BytesIO(moved)).pages[0].extract_text(visitor_text=visit(moved_at))
    # Column 50 is 49 tenths of an inch right of column 1; line 8 is 2 sixths of an inch above line 10.
    assert plain_at["HHP987654"][0] - plain_at["RIVERA, ALEX"][0] == pytest.approx(49 * 7.2, abs=0.01)
    assert plain_at["HHP987654"][1] - plain_at["RIVERA, ALEX"][1] == pytest.approx(2 * 12, abs=0.01)
    assert moved_at["HHP987654"][0] - plain_at["HHP987654"][0] == pytest.approx(72, abs=0.01)  # an inch right
    with pytest.raises(ValueError):
        documents.render_cms1500_pdf([], boxes=(), checks=(), full=True)
