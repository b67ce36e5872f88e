from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class SecondStepForm(FlaskForm):
    """The second step of signing in for a member with two-factor on."""

    code = StringField("Code from your authenticator app, or a recovery code",
                       validators=[DataRequired(message="Enter the code your app shows."), Length(max=40)])
