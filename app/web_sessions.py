"""The browser's side of a sign-in: Flask's signed session cookie carries Flask-Login's id (the member's
login_token) and the token of the server-side MemberSession (app/member_sessions.py). A cookie is good
only while both still match, so a sign-out ends every copy of it.
"""
from flask import request, session
from flask_login import login_user, logout_user

from app import member_sessions
from app.models import Member
from app.models.types import utcnow

#: The Flask session key that holds this browser's MemberSession token.
TOKEN_KEY = "sign_in"


def token() -> str | None:
    return session.get(TOKEN_KEY)


def start(member: Member) -> None:
    """Sign the member in on this browser: a fresh cookie session and a server-side record of it."""
    session.clear()  # a fresh session at sign-in: nothing from before carries over
    login_user(member)
    session.permanent = True
    session["seen"] = utcnow().timestamp()
    session[TOKEN_KEY] = member_sessions.start(member, ip_address=request.remote_addr,
                                               user_agent=request.user_agent.string)


def end() -> None:
    """Sign out this browser: the server-side record ends, then the cookie session."""
    member_sessions.end(token())
    logout_user()
    session.clear()


def load_member(login_token: str) -> Member | None:
    """Flask-Login's user loader: the active member, and only while this browser's sign-in is live."""
    return member_sessions.signed_in(login_token, token())
