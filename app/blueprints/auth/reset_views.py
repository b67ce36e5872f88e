"""A forgotten password: ask for a link by email, then set a new password with it."""
import time

from flask import current_app, flash, request, url_for
from flask_login import current_user

from app import accounts, audit, throttle, web_sessions
from app.accounts import RuleViolation
from app.authz import public
from app.blueprints.auth.forms import NewPasswordForm, PasswordResetRequestForm
from app.blueprints.auth.views import bp
from app.errors import render_error
from app.forms import show_problems
from app.rendering import render_page, see_other

RESET_THROTTLED = ("Too many password-reset requests from this address. Wait 15 minutes, "
                   "or ask your practice's administrator to send you a reset link.")


def _answer_no_sooner_than(started: float) -> None:
    """Pad the answer to a fixed time, so an email with an account takes as long as one without."""
    remaining = current_app.config["PASSWORD_RESET_ANSWER_SECONDS"] - (time.monotonic() - started)
    if remaining > 0:
        time.sleep(remaining)


@bp.route("/password-reset", methods=["GET", "POST"])
@public
def password_reset():
    """Ask for a reset link. The answer is the same page whether or not the email has an account; over
    the per-email limit no email is sent (silently, as that tells nothing), over the per-address limit 429."""
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        started = time.monotonic()
        email = form.email.data.strip().lower()
        email_within_limit, address_within_limit = throttle.count_reset_request(email, request.remote_addr)
        if not address_within_limit:
            audit.record_now("auth.password_reset_throttled", email=email)
            return render_error(429, RESET_THROTTLED)
        if email_within_limit:
            accounts.request_password_reset(email)
        _answer_no_sooner_than(started)
        return render_page("auth/password_reset_sent.html")
    return render_page("auth/password_reset.html", status=422 if form.errors else 200, form=form)


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@public
def password_reset_link(token: str):
    """Set a new password from an emailed link: once, within the hour; every session of the member ends."""
    reset = accounts.usable_reset(token)
    if reset is None:
        return render_page("auth/password_reset_invalid.html", status=410)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            member = accounts.reset_password(reset, form.new_password.data)
        except RuleViolation as error:
            show_problems(form, {error.field: str(error)})
        else:
            throttle.clear_account(member.email)
            if current_user.is_authenticated:
                web_sessions.end()  # whoever was signed in on this browser: their session ends here
            flash("Your new password is set. Sign in with it.", "success")
            return see_other(url_for("auth.login"))
    return render_page("auth/password_reset_form.html", status=422 if request.method == "POST" else 200, form=form)
