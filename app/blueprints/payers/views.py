"""Payers: the insurance companies the practice bills, as its clearinghouse knows them."""
from flask import Blueprint, flash, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.authz import load, roles
from app.billing import clients as rules
from app.billing.clients import ClientProblems
from app.blueprints.payers.forms import PayerForm
from app.extensions import db
from app.forms import show_problems
from app.models import Payer, Role
from app.rendering import render_page, see_other

bp = Blueprint("payers", __name__, url_prefix="/settings/payers")
billing_staff = roles(Role.ADMIN, Role.BILLER)


def _payers():
    return db.session.scalars(select(Payer).where(Payer.practice_id == current_user.practice_id)
                              .order_by(Payer.name)).all()


@bp.route("", methods=["GET", "POST"])
@billing_staff
def index():
    """List the practice's payers and add one."""
    form = PayerForm()
    if form.validate_on_submit():
        try:
            payer = rules.add_payer(current_user.practice, form.data)
        except ClientProblems as error:
            show_problems(form, error.problems)
        else:
            flash(f"{payer.name} added.", "success")
            return see_other(url_for("payers.index"))
    return render_page("payers/index.html", status=422 if request.method == "POST" else 200, form=form,
                       payers=_payers(), filing_indicators=rules.FILING_INDICATORS)


@bp.route("/<int:payer_id>", methods=["GET", "POST"])
@billing_staff
def edit(payer_id: int):
    """Edit a payer's name, IDs, telehealth modifiers and address."""
    payer = load(Payer, payer_id)
    form = PayerForm(obj=payer)
    if form.validate_on_submit():
        try:
            changed = rules.update_payer(payer, form.data)
        except ClientProblems as error:
            show_problems(form, error.problems)
        else:
            flash(f"{payer.name} saved." if changed else "Nothing changed.", "success")
            return see_other(url_for("payers.index"))
    return render_page("payers/edit.html", status=422 if request.method == "POST" else 200, form=form,
                       payer=payer)
