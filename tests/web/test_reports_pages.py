"""The reports pages: every role opens them, a clinician's reports hold only their own work, each table's CSV
has the page's rows, bad date ranges answer 422 beside the field, htmx gets only the report block; and the
charts and cells they are drawn from, on their own.

The data is real: two clinicians' signed sessions billed and claimed by the practice's automation, one claim
paid and one denied by a payer's 835. Casey (90834 at $150.00) is paid; Robin (90837 at $217.00) is denied and
his bill issued."""
import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from app.billing import bills, era
from app.extensions import db
from app.models import Bill, Claim, Member, Practice, Role, TherapySession
from tests.support.days import local_today
from tests.support.insurance import Insured, claim_payment, insured, remittance_text

REPORTS = ("service-trends", "revenue", "aging", "claim-outcomes")
HTMX = {"HX-Request": "true", "HX-Target": "report"}
#: What only Robin's work puts in a report.
ROBINS = ("Robin Other", "217.00", "90837")


# ---------------------------------------------------------------- the practice


@dataclass
class Practice2:
    world: Insured
    casey: object
    robin: object
    admin: object
    biller: object


def _claim(world: Insured, service, minutes: int, price_cents: int) -> int:
    """Like Insured.claim, for a clinician and code of our choosing."""
    make, app = world.make, world.app
    client = make.client(world.practice, primary_clinician_id=world.clinician.id)
    make.policy(client, world.payer)
    session = make.session(client, world.clinician, minutes=minutes, status="completed")
    make.line(session, service, price_cents=price_cents)
    make.note(session, signed_diagnoses=[{"code": "F41.1", "description": ""}], signed_at=session.ends_at)
    with app.app_context():
        bill = bills.create_from_sessions(db.session.get(Practice, world.practice.id),
                                          [db.session.get(TherapySession, session.id)])
        db.session.commit()
        claim = db.session.scalar(db.select(Claim).where(Claim.bill_id == bill.id))
        assert claim is not None and claim.status == "queued", claim and claim.problems
        return claim.id


def _post_835(app, practice_id: int, claim_id: int, **payment) -> None:
    with app.app_context():
        answer = claim_payment(db.session.get(Claim, claim_id), **payment)
        era.import_835(db.session.get(Practice, practice_id), remittance_text([answer]), source="upload")
        db.session.commit()


@pytest.fixture
def practice(make, app):
    """Casey's 90834 claim paid, Robin's 90837 claim denied (CO-197) and its bill issued, both by Harborview
    Health Plan."""
    world = insured(make, app)
    robin = make.member(world.practice, Role.CLINICIAN, name="Robin Other, LICSW")
    casey_claim = world.claim()
    robins_world = Insured(make, app, world.practice, robin, world.payer,
                           make.service(world.practice, "90837", price_cents=21700))
    robin_claim = _claim(robins_world, robins_world.service, minutes=60, price_cents=21700)
    _post_835(app, world.practice.id, casey_claim)
    _post_835(app, world.practice.id, robin_claim, status="4")
    admin = make.member(world.practice, Role.ADMIN)
    with app.app_context():  # the biller issues Robin's bill while the denial (CO-197: never the client's) waits
        bills.open_bill(db.session.get(Bill, db.session.get(Claim, robin_claim).bill_id),
                        db.session.get(Member, admin.id))
        db.session.commit()
    return Practice2(world, world.clinician, robin, admin, make.member(world.practice, Role.BILLER))


# ---------------------------------------------------------------- reading pages and CSV


class _Tables(HTMLParser):
    """Every <table id=…> of a page: its header row, then its body and footer rows, cells as text (a <time>
    as its datetime); and every SVG <desc>."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.descs: dict[str, str] = {}
        self._table = self._row = self._cell = None
        self._desc = None
        self._time = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = self.tables.setdefault(attrs["id"], [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._empty = "empty" in (attrs.get("class") or "")
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "time" and self._cell is not None:
            self._cell.append(attrs["datetime"])
            self._time = True
        elif tag == "desc":
            self._desc = attrs.get("id")
            self.descs[self._desc] = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "tr" and self._row is not None:
            if not self._empty:
                self._table.append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "time":
            self._time = False
        elif tag == "desc":
            self._desc = None

    def handle_data(self, data):
        if self._cell is not None and not self._time:
            self._cell.append(data)
        if self._desc:
            self.descs[self._desc] += data


def read_page(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    return parser


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def as_csv(cell: str) -> str:
    """A page cell as the CSV writes it: money as plain dollars.cents, none as empty, formulas quoted."""
    if cell == "—":
        return ""
    if re.fullmatch(r"-?\$[\d,]+\.\d\d", cell):
        return cell.replace("$", "").replace(",", "")
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell


def csv_links(html: str) -> list[str]:
    return [link.replace("&amp;", "&") for link in re.findall(r'href="([^"]*format=csv[^"]*)"', html)]


def table_body(rows: list[list[str]]) -> list[list[str]]:
    return rows[1:]


# ---------------------------------------------------------------- every role


def test_reports_opens_the_first_report_with_the_same_filters(client, practice, sign_in):
    sign_in(practice.admin)
    response = client.get("/reports?payer=0")
    assert response.status_code == 303
    assert response.headers["Location"] == "/reports/service-trends?payer=0"


@pytest.mark.parametrize("role", ["admin", "biller", "casey"])
def test_every_role_opens_every_report_with_a_chart_and_its_table(client, practice, sign_in, role):
    sign_in(getattr(practice, role))
    for name in REPORTS:
        response = client.get(f"/reports/{name}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert '<svg class="chart-svg" role="img"' in html, name
        page = read_page(html)
        assert page.tables and page.descs, name
        assert all(table[0] for table in page.tables.values())  # a header row each
        assert 'aria-label="Reports"' in html and 'aria-current="page"' in html


def test_the_reports_are_in_the_navigation_of_every_role(client, practice, sign_in):
    for member in (practice.admin, practice.biller, practice.casey):
        sign_in(member)
        assert 'href="/reports">Reports</a>' in client.get("/").get_data(as_text=True)


# ---------------------------------------------------------------- a clinician's own work


def test_the_practice_sees_both_clinicians_work(client, practice, sign_in):
    """What the clinician test looks for is really there for the practice, so its absence means something."""
    sign_in(practice.admin)
    trends = read_page(client.get("/reports/service-trends").get_data(as_text=True))
    codes = {row[1]: row for row in table_body(trends.tables["table-sessions"]) if row[0] != "Total"}
    assert codes["90834"][2:] == ["Casey Clinician, LMHC", "1", "1"]
    assert codes["90837"][2:] == ["Robin Other, LICSW", "1", "1"]
    revenue = client.get("/reports/revenue").get_data(as_text=True)
    assert "$217.00" in revenue and "$150.00" in revenue
    outcomes = read_page(client.get("/reports/claim-outcomes").get_data(as_text=True))
    [harborview] = table_body(outcomes.tables["table-by-payer"])
    assert harborview[:4] == ["Harborview Health Plan", "2", "1", "50.0%"]
    assert "CO-197" in harborview[4]


def test_a_clinicians_reports_and_csv_hold_only_their_own_work(client, practice, sign_in):
    sign_in(practice.casey)
    for name in REPORTS:
        html = client.get(f"/reports/{name}").get_data(as_text=True)
        assert "Robin Other" not in html and "$217.00" not in html, name
        assert 'name="clinician"' not in html, name  # no clinician filter to pick
        page = read_page(html)
        for table_id, rows in page.tables.items():
            assert not any(cell in ("90837", "Robin Other, LICSW") for row in rows for cell in row), table_id
        for desc in page.descs.values():
            assert "90837 1" not in desc and "217.00" not in desc
        for link in csv_links(html):
            text = client.get(link).get_data(as_text=True)
            assert not any(other in text for other in ROBINS[:2]), link
            assert ",90837," not in text, link
    trends = read_page(client.get("/reports/service-trends").get_data(as_text=True))
    assert [row[1:] for row in table_body(trends.tables["table-sessions"])] == [
        ["90834", "Casey Clinician, LMHC", "1", "1"], ["", "", "1", "1"]]
    outcomes = read_page(client.get("/reports/claim-outcomes").get_data(as_text=True))
    [harborview] = table_body(outcomes.tables["table-by-payer"])
    assert harborview == ["Harborview Health Plan", "1", "0", "0.0%", "—"]


def test_a_clinician_asking_for_another_clinician_still_gets_their_own(client, practice, sign_in):
    """Chosen behaviour: clinician=<id> from a clinician is ignored (the filter is always the clinician)."""
    sign_in(practice.casey)
    response = client.get(f"/reports/service-trends?clinician={practice.robin.id}")
    assert response.status_code == 200
    rows = table_body(read_page(response.get_data(as_text=True)).tables["table-sessions"])
    assert [row[1] for row in rows] == ["90834", ""]
    csv_rows = read_csv(client.get(f"/reports/service-trends?clinician={practice.robin.id}&format=csv"))
    assert [row[1] for row in csv_rows[1:]] == ["90834", ""]


def test_the_practice_can_filter_by_clinician_and_payer(client, practice, sign_in):
    sign_in(practice.biller)
    rows = table_body(read_page(client.get(f"/reports/service-trends?clinician={practice.robin.id}")
                                .get_data(as_text=True)).tables["table-sessions"])
    assert [row[1] for row in rows] == ["90837", ""]
    response = client.get("/reports/service-trends?clinician=999999")
    assert response.status_code == 422
    assert 'id="clinician-error"' in response.get_data(as_text=True)
    response = client.get("/reports/revenue?payer=0")  # Self-pay: nobody here is
    assert response.status_code == 200
    assert "$217.00" not in response.get_data(as_text=True)


# ---------------------------------------------------------------- CSV = the page


def test_each_tables_csv_has_the_rows_the_page_shows(client, practice, sign_in):
    sign_in(practice.admin)
    compared = 0
    for name in REPORTS:
        html = client.get(f"/reports/{name}").get_data(as_text=True)
        page = read_page(html)
        links = csv_links(html)
        assert len(links) == len(page.tables), name
        for link in links:
            table = "table-" + re.search(r"table=(\w+)", link).group(1).replace("_", "-")
            shown = page.tables[table]
            exported = read_csv(client.get(link))
            assert exported[0] == shown[0], link  # the same columns
            assert exported[1:] == [[as_csv(cell) for cell in row] for row in shown[1:]], link
            compared += len(exported) - 1
    assert compared > 10


@pytest.mark.parametrize("app_config", [{"REPORT_CLIENTS_PAGE_SIZE": 2}])
def test_aging_lists_clients_a_page_at_a_time_in_name_order_and_the_csv_has_every_one(make, app, client, sign_in):
    world = insured(make, app)
    names = ["Zed Young", "ada apple", "Bo Apple", "Cy Marsh", "Di Marsh"]
    for name in names:
        first, last = name.split()
        world.claim(client=make.client(world.practice, first_name=first, last_name=last,
                                       primary_clinician_id=world.clinician.id))
    make.client(world.practice, first_name="Al", last_name="Aaron")  # owes nothing: not listed
    sign_in(make.member(world.practice, Role.BILLER))
    shown, footers, url, pages = [], set(), f"/reports/aging?payer={world.payer.id}", 0
    while url:
        html = client.get(url, headers=HTMX if pages else {}).get_data(as_text=True)
        rows = read_page(html).tables["table-by-client"][1:]
        body, footer = rows[:-1], rows[-1]
        assert 1 <= len(body) <= 2
        shown += body
        footers.add(tuple(footer))
        assert ('id="table-by-client-first"' in html) == (pages > 0)
        following = re.search(r'id="table-by-client-next" hx-get="([^"]+)"', html)
        url = following and following.group(1).replace("&amp;", "&")
        assert url is None or f"payer={world.payer.id}" in url  # the filters stay
        pages += 1
    assert pages == 3
    assert [row[0] for row in shown] == ["ada apple", "Bo Apple", "Cy Marsh", "Di Marsh", "Zed Young"]
    assert footers == {("All clients", "Insurance", "$750.00", "$0.00", "$0.00", "$0.00", "$750.00")}
    exported = read_csv(client.get(f"/reports/aging?payer={world.payer.id}&format=csv&table=by_client"))
    assert exported[1:] == [[as_csv(cell) for cell in row] for row in [*shown, footer]]
    assert 'Download CSV (all clients)' in html


def test_the_default_csv_is_the_first_table_and_an_unknown_table_is_404(client, practice, sign_in):
    sign_in(practice.admin)
    first = read_csv(client.get("/reports/revenue?format=csv"))
    assert first == read_csv(client.get("/reports/revenue?format=csv&table=by_month"))
    assert client.get("/reports/revenue?format=csv&table=secrets").status_code == 404


def test_csv_cells_a_spreadsheet_would_run_are_quoted(make, app, client, sign_in):
    world = insured(make, app)
    world.payer = make.payer(world.practice, name="=HYPERLINK(\"http://x\") Health", clearinghouse_payer_id="EVIL1")
    world.claim()
    sign_in(make.member(world.practice, Role.BILLER))
    exported = read_csv(client.get("/reports/aging?format=csv&table=by_payer"))  # the claim's balance
    assert ["'=HYPERLINK(\"http://x\") Health"] == [row[0] for row in exported[1:] if "HYPERLINK" in row[0]]
    html = client.get("/reports/aging").get_data(as_text=True)
    assert "=HYPERLINK(&#34;http://x&#34;) Health" in html  # escaped on the page, as typed


# ---------------------------------------------------------------- dates


def test_the_default_range_is_the_last_twelve_months_to_today(client, practice, sign_in):
    sign_in(practice.admin)
    html = client.get("/reports/revenue").get_data(as_text=True)
    today = datetime.now(ZoneInfo("America/New_York")).date()  # the practice's zone
    start = date(today.year - (1 if today.month < 12 else 0), (today.month % 12) + 1, 1)
    assert f'name="date_from" type="date" value="{start.isoformat()}"' in html
    assert f'name="date_to" type="date" value="{today.isoformat()}"' in html


@pytest.mark.parametrize("args, field, message", [
    ("date_from=2026-03-01&date_to=2026-02-01", "date_to", "The end date is before the start date."),
    ("date_from=2020-01-01&date_to=2024-01-02", "date_from", "A report covers at most 3 years"),
    ("date_from=yesterday", "date_from", "Not a valid date value."),
    ("date_from=2026-01-01&date_to=9999-12-31", "date_to", "Enter a date between 1900 and 2999."),
])
def test_a_bad_date_range_is_422_with_the_message_beside_the_field(client, practice, sign_in, args, field, message):
    sign_in(practice.admin)
    for name in REPORTS:
        for headers in ({}, HTMX):
            response = client.get(f"/reports/{name}?{args}", headers=headers)
            html = response.get_data(as_text=True)
            assert response.status_code == 422, name
            assert re.search(rf'<p class="error" id="{field}-error">[^<]*{re.escape(message)}', html), name
            assert f'aria-describedby="{field}-error"' in html and 'aria-invalid="true"' in html
            assert "<table" not in html  # no report for filters that make no sense


def test_exactly_three_years_is_allowed(client, practice, sign_in):
    sign_in(practice.admin)
    assert client.get("/reports/aging?date_from=2021-01-01&date_to=2024-01-01").status_code == 200


def test_a_range_without_the_work_shows_none_of_it(client, practice, sign_in):
    sign_in(practice.admin)
    long_ago = (local_today() - timedelta(days=800)).isoformat(), (local_today() - timedelta(days=500)).isoformat()
    html = client.get(f"/reports/service-trends?date_from={long_ago[0]}&date_to={long_ago[1]}").get_data(as_text=True)
    page = read_page(html)
    assert table_body(page.tables["table-sessions"]) == []
    assert "No completed sessions in this period." in html
    assert page.descs["chart-sessions-desc"] == "No completed sessions in this period."


# ---------------------------------------------------------------- htmx


def test_an_htmx_request_gets_only_the_report_block(client, practice, sign_in):
    sign_in(practice.admin)
    for name in REPORTS:
        response = client.get(f"/reports/{name}", headers=HTMX)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert html.strip().startswith('<div id="report" class="report">'), name
        assert "<html" not in html and 'aria-label="Main"' not in html and "<h1>" not in html
        assert 'id="report-filters"' in html and "<svg" in html and "<table" in html
        assert "HX-Request" in response.headers["Vary"]


def test_the_filter_form_is_a_get_form_that_htmx_sends_to_the_report_block(client, practice, sign_in):
    sign_in(practice.admin)
    html = client.get("/reports/aging").get_data(as_text=True)
    form = re.search(r'<form method="get" action="/reports/aging"[^>]*>', html).group(0)
    assert 'hx-get="/reports/aging"' in form and 'hx-target="#report"' in form and 'hx-push-url="true"' in form
    assert "csrf_token" not in re.search(r'<form method="get".*?</form>', html, re.S).group(0)
    assert "<script" not in html.split("</head>")[1] and " style=" not in html  # the CSP allows neither
    assert not re.search(r"\son[a-z]+\s*=", html)


# ---------------------------------------------------------------- charts and cells on their own


def test_charts_escape_labels_and_say_every_value_in_words():
    from app import charts

    svg = charts.stacked_bars("c1", "Sessions <by> code", ["Jan 2026", "Feb 2026"],
                              [charts.Series("<script>", [2, 0]), charts.Series("90837", [1, 0])])
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "Sessions &lt;by&gt; code" in svg
    assert 'role="img" aria-labelledby="c1-title c1-desc"' in svg
    assert '<desc id="c1-desc">Jan 2026: &lt;script&gt; 2, 90837 1 (total 3). Feb 2026: none.</desc>' in svg
    line = charts.line_chart("c2", "Shares", ["Jan", "Feb", "Mar"],
                             [charts.Series("90834", [Decimal("0.5"), None, Decimal(1)])],
                             fmt=charts.percent, max_value=1)
    assert "Jan: 90834 50.0%. Feb: none. Mar: 90834 100.0%." in line
    assert line.count("<polyline") == 0 and line.count("<circle") == 2  # a gap breaks the line
    bars = charts.bar_chart("c3", "Denial rate", ["A", "B"], [charts.Series("Denial rate", [Decimal(0), None])],
                            fmt=charts.percent)
    assert "A: Denial rate 0.0%. B: none." in bars and "<rect" in bars  # 0% is a value, not "nothing to show"
    empty = charts.bar_chart("c4", "Nothing", [], [])
    assert '<desc id="c4-desc">Nothing to show for this period.</desc>' in empty
    assert " style=" not in svg + line + bars + empty


def test_cells_format_for_the_page_and_the_csv():
    from app.blueprints.reports.content import Cell, Column, Table

    def in_csv(cell: Cell) -> str:
        """The cell as a one-cell table's CSV has it."""
        text = Table("one", "One", [Column("Value")], [[cell]]).csv_text()
        return list(csv.reader(io.StringIO(text)))[1][0]

    assert in_csv(Cell(-12345, "money")) == "-123.45"  # a negative amount is a number, not a formula
    assert Cell(Decimal("0.125"), "rate").text == "12.5%" == in_csv(Cell(Decimal("0.125"), "rate"))
    assert Cell(None, "rate").text == "—" and in_csv(Cell(None, "rate")) == ""
    assert in_csv(Cell(Decimal("14.50"), "days")) == "14.5"
    assert in_csv(Cell(date(2026, 3, 1), "month")) == "2026-03"
    assert in_csv(Cell(7, "count")) == "7"
    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx"):
        assert in_csv(Cell(risky)) == "'" + risky
    assert in_csv(Cell("Harborview")) == "Harborview"
