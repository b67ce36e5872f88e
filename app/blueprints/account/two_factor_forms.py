from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class TurnOnTwoFactorForm(FlaskForm):
    """Confirm the authenticator app was set up, with a code it shows."""

    code = StringField("Code from your authenticator app",
                       validators=[DataRequired(message="Enter the code your app shows."), Length(max=10)])


class TurnOffTwoFactorForm(FlaskForm):
    confirmation = PasswordField("A current code from your app, or your password",
                                 validators=[DataRequired(message="Enter a code or your password."),
                                             Length(max=200)])


class RegenerateRecoveryCodesForm(FlaskForm):
    """No fields: the CSRF token alone."""
