"""Sign-in, sign-out, and a password reset by email."""
import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_login import current_user

from app import accounts, audit, throttle, web_sessions
from app.accounts import RuleViolation
from app.authz import any_member, public
from app.blueprints.auth.forms import NewPasswordForm, PasswordResetRequestForm, SignInForm
from app.errors import render_error
from app.forms import show_problems
from app.models.practice import member_by_email
from app.models.types import utcnow
from app.rendering import render_page, see_other

bp = Blueprint("auth", __name__)

# One message for an unknown email and a wrong password, so the page tells nobody which it was.
SIGN_IN_FAILED = "That email and password do not match an active account."
LOCKED_OUT = ("Too many failed sign-ins. For your security, sign-in is paused for this account; "
              "try again in 15 minutes, or set a new password with “Forgot your password?” on the sign-in page.")
RESET_THROTTLED = ("Too many password-reset requests from this address. Wait 15 minutes, "
                   "or ask your practice's administrator to send you a reset link.")


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    if request.method == "POST":
        email = (form.email.data or "").strip().lower()
        if throttle.is_locked(email, request.remote_addr):
            audit.record_now("auth.sign_in_throttled", email=email)
            return render_error(429, LOCKED_OUT)
        if form.validate():
            member = member_by_email(email)
            if accounts.check_password(member, form.password.data) and member.active:
                web_sessions.start(member)  # with a server-side record that sign-out ends
                member.last_sign_in_at = utcnow()
                throttle.clear_account(email)
                audit.record("auth.sign_in", member, actor=member)
                return redirect(_safe_next(request.args.get("next")), code=303)
            throttle.record_failure(email, request.remote_addr)
            audit.record_now("auth.sign_in_failed", practice_id=member.practice_id if member else None,
                             member_id=member.id if member else None, email=email)
        form.form_errors.append(SIGN_IN_FAILED)
        form.email.data = form.password.data = ""  # echo nothing: the page must not differ by account
        return render_page("auth/login.html", status=422, form=form)
    return render_page("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@any_member
def logout():
    """Sign out."""
    audit.record("auth.sign_out", current_user._get_current_object())
    web_sessions.end()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), code=303)


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
