"""Sign-in and sign-out."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_login import current_user

from app import accounts, audit, throttle, two_factor, web_sessions
from app.authz import any_member, public
from app.blueprints.auth.forms import SecondStepForm, SignInForm
from app.config import encryption_key
from app.errors import render_error
from app.extensions import db
from app.models import Member
from app.models.practice import member_by_email
from app.models.types import utcnow
from app.rendering import render_page

bp = Blueprint("auth", __name__)

# One message for an unknown email and a wrong password, so the page tells nobody which it was.
SIGN_IN_FAILED = "That email and password do not match an active account."
LOCKED_OUT = ("Too many failed sign-ins. For your security, sign-in is paused for this account from here; "
              "try again in 15 minutes, or set a new password with “Forgot your password?” on the sign-in page.")
SECOND_STEP_EXPIRED = "Sign in again: the second step waits only five minutes."
#: Where the Flask session keeps the member who gave the right password and still owes a code.
PENDING_SECOND_STEP = "two_factor_pending"
SECOND_STEP_SECONDS = 5 * 60
RESET_REQUIRED = ("Someone has tried too many wrong passwords on this account, so it needs a new password "
                  "before you can sign in: ask your administrator, or use Forgot your password?")


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.home")


def _complete_sign_in(member: Member, next_target: str | None, action: str = "auth.sign_in", **details):
    """Sign the member in: the one place both the password step and the two-factor step end."""
    web_sessions.start(member)  # with a server-side record that sign-out ends
    member.last_sign_in_at = utcnow()
    throttle.clear_account(member.email, request.remote_addr)
    audit.record(action, member, actor=member, **details)
    return redirect(_safe_next(next_target), code=303)


def _count_failure(email: str, member: Member | None) -> None:
    """A wrong password or second-step code counts toward the sign-in throttle; past the account-wide limit the
    member needs a new password."""
    if throttle.record_failure(email, request.remote_addr, member.password_hash if member else None) and member:
        accounts.require_password_reset(member)


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
                if member.password_reset_required:
                    audit.record_now("auth.sign_in_reset_required", practice_id=member.practice_id,
                                     member_id=member.id, email=email)
                    form.form_errors.append(RESET_REQUIRED)
                    form.email.data = form.password.data = ""
                    return render_page("auth/login.html", status=422, form=form)
                if member.two_factor_enabled:
                    return _start_second_step(member, request.args.get("next"))
                return _complete_sign_in(member, request.args.get("next"))
            _count_failure(email, member)
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


def _start_second_step(member: Member, next_target: str | None):
    """The password was right; nothing is granted until the second step's code is right too."""
    session.clear()
    session[PENDING_SECOND_STEP] = {"member_id": member.id, "since": utcnow().timestamp(), "next": next_target}
    return redirect(url_for("auth.second_step"), code=303)


def _pending_member() -> tuple[Member | None, str | None]:
    """The member whose password was right a moment ago (and the page they asked for), or None."""
    pending = session.get(PENDING_SECOND_STEP)
    if not pending or utcnow().timestamp() - pending["since"] > SECOND_STEP_SECONDS:
        return None, None
    member = db.session.get(Member, pending["member_id"])
    if member is None or not member.active or not member.two_factor_enabled:
        return None, None
    return member, pending.get("next")


@bp.route("/login/two-factor", methods=["GET", "POST"])
@public
def second_step():
    """Sign in, second step: a code from the authenticator app or a recovery code."""
    member, next_target = _pending_member()
    if member is None:
        session.pop(PENDING_SECOND_STEP, None)
        flash(SECOND_STEP_EXPIRED, "info")
        return redirect(url_for("auth.login"), code=303)
    form = SecondStepForm()
    if request.method == "POST":
        if throttle.is_locked(member.email, request.remote_addr):
            audit.record_now("auth.sign_in_throttled", practice_id=member.practice_id, member_id=member.id,
                             email=member.email)
            return render_error(429, LOCKED_OUT)
        if form.validate():
            used = two_factor.sign_in_with(member, form.code.data, encryption_key(current_app.config))
            if used:
                session.pop(PENDING_SECOND_STEP, None)
                return _complete_sign_in(member, next_target, "auth.sign_in_two_factor", second_factor=used)
            _count_failure(member.email, member)
            audit.record_now("auth.two_factor_failed", practice_id=member.practice_id, member_id=member.id)
            form.code.errors = [two_factor.WRONG_CODE]
        form.code.data = ""
        return render_page("auth/two_factor.html", status=422, form=form)
    return render_page("auth/two_factor.html", form=form)
