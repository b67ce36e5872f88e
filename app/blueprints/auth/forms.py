from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.accounts import MIN_PASSWORD_LENGTH


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class SecondStepForm(FlaskForm):
    """The second step of signing in for a member with two-factor on."""

    code = StringField("Code from your authenticator app, or a recovery code",
                       validators=[DataRequired(message="Enter the code your app shows."), Length(max=40)])


class PasswordResetRequestForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])


NEW_PASSWORD_HINT = (f"At least {MIN_PASSWORD_LENGTH} characters, hard to guess: a few uncommon words work well. "
                     "Not your name or email.")


class NewPasswordForm(FlaskForm):
    """A new password from a reset link (its strength is checked by app.accounts)."""

    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=200)],
                                 description=NEW_PASSWORD_HINT)
    confirm_password = PasswordField("Confirm the new password", validators=[
        DataRequired(), EqualTo("new_password", message="The two passwords do not match.")])
