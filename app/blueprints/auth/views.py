"""Sign-in and sign-out."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from app import accounts, audit, throttle, web_sessions
from app.authz import any_member, public
from app.blueprints.auth.forms import SignInForm
from app.errors import render_error
from app.models.practice import member_by_email
from app.models.types import utcnow
from app.rendering import render_page

bp = Blueprint("auth", __name__)

# One message for an unknown email and a wrong password, so the page tells nobody which it was.
SIGN_IN_FAILED = "That email and password do not match an active account."
LOCKED_OUT = ("Too many failed sign-ins. For your security, sign-in is paused for this account; "
              "try again in 15 minutes, or set a new password with “Forgot your password?” on the sign-in page.")


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

