"""The account page (who the member is, where they are signed in, sign out everywhere) and the password change."""
from flask import flash, request, url_for
from flask_login import current_user

from app import accounts, member_sessions, web_sessions
from app.accounts import RuleViolation
from app.authz import any_member
from app.blueprints.account.forms import ChangePasswordForm, SignOutEverywhereForm
from app.blueprints.account.views import bp
from app.forms import show_problems
from app.rendering import render_page, see_other

@bp.route("")
@any_member
def overview():
    """Name, email and role, and every live sign-in with its device, address and last request."""
    member = current_user._get_current_object()
    return render_page("account/index.html", member=member, sign_ins=member_sessions.live(member),
                       this_sign_in=member_sessions.current(member, web_sessions.token()),
                       form=SignOutEverywhereForm())


@bp.route("/sign-out-everywhere", methods=["POST"])
@any_member
def sign_out_everywhere():
    """End every sign-in of this member on other browsers; this one stays."""
    SignOutEverywhereForm().validate()
    ended = member_sessions.sign_out_everywhere(current_user._get_current_object(), keep=web_sessions.token())
    flash(f"Signed out everywhere else ({ended} other sign-in{'' if ended == 1 else 's'} ended).", "success")
    return see_other(url_for("account.overview"))


@bp.route("/password", methods=["GET", "POST"])
@any_member
def change_password():
    """Change one's own password; the member's other sign-ins end, this one stays."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user._get_current_object(), form.current_password.data,
                                     form.new_password.data, keep_session=web_sessions.token())
        except RuleViolation as error:
            show_problems(form, {error.field: str(error)})
        else:
            flash("Your password is changed; your other sign-ins have ended.", "success")
            return see_other(url_for("account.overview"))
    return render_page("account/password.html", status=422 if request.method == "POST" else 200, form=form)
