"""Two-factor sign-in for the signed-in member: set it up, turn it off, new recovery codes."""
from flask import current_app, flash, request, url_for
from flask_login import current_user

from app import two_factor
from app.accounts import RuleViolation
from app.authz import any_member
from app.blueprints.account.two_factor_forms import (RegenerateRecoveryCodesForm, TurnOffTwoFactorForm,
                                                     TurnOnTwoFactorForm)
from app.blueprints.account.views import bp
from app.config import encryption_key
from app.forms import show_problems
from app.rendering import render_page, see_other

TEMPLATE = "account/two_factor.html"


def _page(status: int = 200, turn_on_form=None, turn_off_form=None, recovery_codes=None):
    member = current_user._get_current_object()
    context = {"member": member, "recovery_codes": recovery_codes,
               "turn_off_form": turn_off_form or TurnOffTwoFactorForm(formdata=None),
               "regenerate_form": RegenerateRecoveryCodesForm(formdata=None)}
    if member.two_factor_enabled:
        context["unused_recovery_codes"] = two_factor.unused_recovery_codes(member)
    else:
        secret = two_factor.pending_secret(member, encryption_key(current_app.config))
        uri = two_factor.provisioning_uri(member, secret)
        context |= {"secret": secret, "uri": uri, "qr_code": two_factor.qr_code_svg(uri),
                    "turn_on_form": turn_on_form or TurnOnTwoFactorForm(formdata=None)}
    return render_page(TEMPLATE, status=status, **context)


@bp.route("/two-factor", methods=["GET", "POST"])
@any_member
def two_factor_page():
    """Show the QR code to set two-factor up, and turn it on with a code from the app."""
    form = TurnOnTwoFactorForm()
    if request.method == "GET" or current_user.two_factor_enabled:
        return _page()
    if form.validate_on_submit():
        try:
            codes = two_factor.turn_on(current_user, form.code.data, encryption_key(current_app.config))
        except RuleViolation as error:
            show_problems(form, {error.field: str(error)})
        else:
            return _page(recovery_codes=codes)
    form.code.data = ""
    return _page(422, turn_on_form=form)


@bp.route("/two-factor/off", methods=["POST"])
@any_member
def turn_off_two_factor():
    """Turn two-factor off, with a current code or the password."""
    form = TurnOffTwoFactorForm()
    if form.validate_on_submit():
        try:
            two_factor.turn_off(current_user, form.confirmation.data, encryption_key(current_app.config))
        except RuleViolation as error:
            show_problems(form, {error.field: str(error)})
        else:
            flash("Two-factor sign-in is off.", "success")
            return see_other(url_for("account.two_factor_page"))
    return _page(422, turn_off_form=form)


@bp.route("/two-factor/recovery-codes", methods=["POST"])
@any_member
def regenerate_recovery_codes():
    """Ten new recovery codes, shown once; the old ones stop working."""
    if not RegenerateRecoveryCodesForm().validate_on_submit():
        return _page(422)
    try:
        codes = two_factor.regenerate_recovery_codes(current_user)
    except RuleViolation as error:
        flash(str(error), "error")
        return see_other(url_for("account.two_factor_page"))
    return _page(recovery_codes=codes)
