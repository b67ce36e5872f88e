"""The service catalog (admins) and the procedure code search every billing form uses."""
from flask import Blueprint, flash, make_response, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app import htmx
from app.authz import any_member, load, roles
from app.billing import catalog, codes
from app.billing.catalog import CatalogProblems, ServiceDetails
from app.billing.money import dollars
from app.billing.code_search import search_codes
from app.blueprints.services.forms import ServiceForm
from app.extensions import db
from app.forms import show_problems
from app.models import CodeType, Role, ServiceCode
from app.rendering import render_page, see_other

bp = Blueprint("services", __name__, url_prefix="/settings/services")
codes_bp = Blueprint("codes", __name__, url_prefix="/codes")
admin_only = roles(Role.ADMIN)


def _services():
    return db.session.scalars(select(ServiceCode).where(ServiceCode.practice_id == current_user.practice_id)
                              .order_by(ServiceCode.code)).all()


@bp.route("")
@admin_only
def index():
    """List the practice's services."""
    return render_page("services/index.html", services=_services(), addon=codes.is_addon)


def _details(form: ServiceForm) -> ServiceDetails:
    return ServiceDetails(code=form.code.data or "", code_type=CodeType(form.code_type.data), name=form.name.data or "",
                          description=form.description.data or "", price_cents=form.price.cents or 0,
                          bill_in_units=form.bill_in_units.data, minutes_per_unit=form.minutes_per_unit.data,
                          unit_rounding=form.unit_rounding.data or None, repeatable=form.repeatable.data,
                          enabled=form.enabled.data, requires_advance_payment=form.requires_advance_payment.data)


def _edit_page(form: ServiceForm, service: ServiceCode | None):
    status = 422 if request.method == "POST" else 200
    return render_page("services/form.html", status=status, form=form, service=service)


@bp.route("/new", methods=["GET", "POST"])
@admin_only
def new():
    """Add a service, with the code autocomplete filling in its name and description."""
    form = ServiceForm()
    if form.validate_on_submit():
        try:
            service = catalog.add_service(current_user.practice, _details(form))
        except CatalogProblems as error:
            show_problems(form, error.problems)
        else:
            flash(f"{service.code} {service.name} added.", "success")
            return see_other(url_for("services.index"))
    return _edit_page(form, None)


@bp.route("/<int:service_id>/edit", methods=["GET", "POST"])
@admin_only
def edit(service_id: int):
    """Edit a service; bills already issued keep what they copied."""
    service = load(ServiceCode, service_id)
    form = ServiceForm(obj=service)
    if request.method == "GET":
        form.price.data = dollars(service.price_cents)
    if form.validate_on_submit():
        try:
            catalog.update_service(service, _details(form))
        except CatalogProblems as error:
            show_problems(form, error.problems)
        else:
            flash(f"{service.code} saved.", "success")
            return see_other(url_for("services.index"))
    return _edit_page(form, service)


def _row(service: ServiceCode, status: int = 200, error: str | None = None):
    return make_response(render_page("services/index.html", status=status, block="service_row", service=service,
                                     addon=codes.is_addon, row_error=error))


@bp.route("/<int:service_id>/toggle", methods=["POST"])
@admin_only
def toggle(service_id: int):
    """Enable or disable a service; answers with its row only."""
    service = load(ServiceCode, service_id)
    catalog.set_enabled(service, not service.enabled)
    if not htmx.is_htmx():
        return see_other(url_for("services.index"))
    state = "enabled" if service.enabled else "disabled"
    return htmx.toast(_row(service), f"{service.code} {state}.")


@bp.route("/<int:service_id>/delete", methods=["POST"])
@admin_only
def delete(service_id: int):
    """Delete a service that was never used; otherwise say to disable it."""
    service = load(ServiceCode, service_id)
    code = service.code
    try:
        catalog.delete_service(service)
    except CatalogProblems as error:
        message = error.problems["service"]
        if htmx.is_htmx():
            return _row(service, 422, message)
        flash(message, "error")
        return see_other(url_for("services.index"))
    if htmx.is_htmx():
        return htmx.toast(make_response(""), f"{code} deleted.")
    flash(f"{code} deleted.", "success")
    return see_other(url_for("services.index"))


@bp.route("/import", methods=["GET", "POST"])
@admin_only
def import_codes():
    """Import codes from the built-in reference, each with the price typed beside it."""
    in_catalog = catalog.catalog_codes(current_user.practice_id)
    problems: dict[str, str] = {}
    selected: set[str] = set()
    prices: dict[str, str] = {}
    if request.method == "POST":
        selected = set(request.form.getlist("code"))
        prices = {code: request.form.get(f"price-{code}", "") for code in selected}
        try:
            services = catalog.import_reference_codes(current_user.practice, [(code, prices[code])
                                                                             for code in sorted(selected)])
        except CatalogProblems as error:
            problems = error.problems
        else:
            flash(f"Imported {len(services)} code{'s' if len(services) != 1 else ''}.", "success")
            return see_other(url_for("services.index"))
    return render_page("services/import.html", status=422 if problems else 200, reference=codes.all_codes(),
                       in_catalog=in_catalog, problems=problems, selected=selected, prices=prices,
                       addon=codes.is_addon, parents=codes.parents, reference_price=codes.reference_price_text)


@codes_bp.route("/search")
@any_member
def search():
    """The code autocomplete's listbox: reference and custom codes, or the practice's enabled services."""
    context = request.args.get("context", "practice")
    if context not in {"catalog", "practice"}:
        context = "practice"
    minutes = request.args.get("minutes", type=int)
    query = request.args.get("q", "")
    results = search_codes(current_user.practice, query, context=context, minutes=minutes)
    return render_page("codes/_options.html", results=results, query=query, minutes=minutes,
                       listbox_id=request.args.get("listbox", "code-listbox"))


@codes_bp.route("/validate")
@any_member
def validate():
    """Does this code fit these minutes? 200 with a 'fits' fragment, or 422 naming the code that fits."""
    code = codes.normalize_code(request.args.get("code", ""))
    minutes = request.args.get("minutes", type=int)
    if minutes is None or minutes < 0:
        return render_page("codes/_fit.html", status=422, ok=False, message="Enter the minutes spent in session.")
    check = catalog.time_check(current_user.practice_id, code, minutes)
    return render_page("codes/_fit.html", status=200 if check.fits else 422, ok=check.fits,
                       lower=check.lower_code, message=check.message, units=check.units)
