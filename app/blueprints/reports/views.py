"""Reports: service trends, revenue, accounts receivable aging and claim outcomes. Admins and billers see the
practice; a clinician sees only their own work (the clinician filter is forced to them, and a clinician= in
the URL is ignored). Each report is a chart and the tables of its numbers; `?format=csv&table=<name>` exports a
table's rows exactly as the page shows them. The filters are a GET form: htmx swaps the report block, and
without JavaScript it is a plain page load."""
from datetime import datetime

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

import app.blueprints.reports.content as content
from app import access
from app.authz import any_member
from app.billing import reports
from app.billing.reports_data import ReportFilter
from app.blueprints.reports.forms import SELF_PAY, ReportFilterForm, default_start
from app.extensions import db
from app.formatting import practice_zone
from app.models import Member, Payer, Role
from app.rendering import csv_response, render_page

bp = Blueprint("reports", __name__)

#: (endpoint, tab label), in tab order.
REPORTS = [("reports.service_trends", "Service trends"), ("reports.revenue", "Revenue"),
           ("reports.aging", "Receivables aging"), ("reports.claim_outcomes", "Claim outcomes")]
FILTERS = ("date_from", "date_to", "clinician", "payer")


def _form() -> ReportFilterForm:
    """The filters from the query string, dates defaulting to the last 12 months to today (practice time)."""
    today = datetime.now(practice_zone()).date()
    args = MultiDict(request.args)
    if not args.get("date_to"):
        args["date_to"] = today.isoformat()
    if not args.get("date_from"):
        args["date_from"] = default_start(today).isoformat()
    form = ReportFilterForm(args)
    practice_id = current_user.practice_id
    payers = db.session.scalars(select(Payer).where(Payer.practice_id == practice_id).order_by(Payer.name)).all()
    form.payer.choices = [("", "Any payer"), (SELF_PAY, "Self-pay")] + [(str(p.id), p.name) for p in payers]
    if not access.sees_whole_practice(current_user):
        del form.clinician
    else:
        clinicians = db.session.scalars(select(Member).where(Member.practice_id == practice_id,
                                                             Member.role == Role.CLINICIAN)
                                        .order_by(Member.name)).all()
        form.clinician.choices = [("", "Any clinician")] + [(str(m.id), m.name) for m in clinicians]
    return form


def _filter(form: ReportFilterForm) -> ReportFilter:
    # A clinician's reports are their own work, as on the list pages: summaries of claims, bills and sessions
    # are kept per clinician, so the filter is what access.claim_filter and session_filter are for rows.
    clinician_id = form.clinician_id if access.sees_whole_practice(current_user) else current_user.id
    return ReportFilter(practice_id=current_user.practice_id, start=form.date_from.data, end=form.date_to.data,
                        clinician_id=clinician_id, payer_id=form.payer_id)


def _show(endpoint: str, template: str, build):
    """Validate the filters, then the page (or the report block for htmx), or one table as CSV."""
    form = _form()
    filter_args = {name: form[name].raw_data[0] for name in FILTERS
                   if name in form and form[name].raw_data and form[name].raw_data[0]}
    context = {"form": form, "endpoint": endpoint, "reports": REPORTS, "filter_args": filter_args}
    if not form.validate():
        return render_page(template, status=422, page=None, **context)
    report_filter = _filter(form)
    page = build(report_filter)
    if request.args.get("format") == "csv":
        table = page.tables.get(request.args.get("table") or next(iter(page.tables)))
        if table is None:
            abort(404)
        return csv_response(table.csv_text(), f"{endpoint.split('.')[1].replace('_', '-')}-"
                                              f"{table.name.replace('_', '-')}-{report_filter.start.isoformat()}-"
                                              f"{report_filter.end.isoformat()}.csv")
    return render_page(template, page=page, period=(report_filter.start, report_filter.end), **context)


@bp.route("/reports")
@any_member
def index():
    """Open the first report, keeping the filters."""
    return redirect(url_for("reports.service_trends", **request.args.to_dict()), code=303)


@bp.route("/reports/service-trends")
@any_member
def service_trends():
    """Completed sessions and units per code per month by clinician, and the psychotherapy time bands' shares."""
    return _show("reports.service_trends", "reports/service_trends.html",
                 lambda f: content.service_trends(reports.service_trends(f)))


@bp.route("/reports/revenue")
@any_member
def revenue():
    """Charges, insurance and client payments, adjustments and write-offs by month, code, payer and clinician."""
    return _show("reports.revenue", "reports/revenue.html", lambda f: content.revenue(reports.revenue(f)))


@bp.route("/reports/aging")
@any_member
def aging():
    """What insurance and clients owe today, by age (0–30 … over 90 days since the date of service), by payer and
    by client (a page of clients at a time, in name order). Balances are today's, so the dates do not apply; the
    clinician and payer do."""
    export = request.args.get("format") == "csv"  # the CSV has every client; the page one page of them
    after = None if export else request.args.get("clients_after", type=int)
    per_page = None if export else current_app.config["REPORT_CLIENTS_PAGE_SIZE"]
    return _show("reports.aging", "reports/aging.html",
                 lambda f: content.aging(reports.aging(f, clients_after=after, clients_per_page=per_page)))


@bp.route("/reports/claim-outcomes")
@any_member
def claim_outcomes():
    """First-pass acceptance, denial rates by payer with their most frequent reasons, days to payment."""
    return _show("reports.claim_outcomes", "reports/claim_outcomes.html",
                 lambda f: content.claim_outcomes(reports.claim_outcomes(f)))
