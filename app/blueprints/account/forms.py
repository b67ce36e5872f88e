from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from app.blueprints.auth.forms import NewPasswordForm


class ChangePasswordForm(NewPasswordForm):
    """A signed-in member's own change: their current password, then the new one twice."""

    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=200)])


class SignOutEverywhereForm(FlaskForm):
    """No fields: a POST that carries only its CSRF token."""
