from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from app import forms as checks
from app.accounts import MIN_PASSWORD_LENGTH
from app.models import Role

ROLE_CHOICES = [(role.value, role.label) for role in Role]
TIME_ZONES = [("America/New_York", "Eastern"), ("America/Chicago", "Central"), ("America/Denver", "Mountain"),
              ("America/Phoenix", "Arizona"), ("America/Los_Angeles", "Pacific"), ("America/Anchorage", "Alaska"),
              ("Pacific/Honolulu", "Hawaii"), ("America/Puerto_Rico", "Atlantic (Puerto Rico)")]


class PracticeForm(FlaskForm):
    legal_name = StringField("Legal name", validators=[DataRequired(), Length(max=200)])
    tax_id = StringField("Tax ID", validators=[checks.tax_id("tax_id_is_ssn")])
    tax_id_is_ssn = BooleanField("Bill under this SSN (a sole provider without an EIN)")
    group_npi = StringField("Group NPI", validators=[Optional(), checks.npi(kind=2)])
    taxonomy = StringField("Taxonomy code", validators=[Optional(), checks.taxonomy])
    address_line1 = StringField("Address", validators=[DataRequired(), Length(max=200)])
    address_line2 = StringField("Address line 2", validators=[Optional(), Length(max=200)])
    city = StringField("City", validators=[DataRequired(), Length(max=100)])
    state = StringField("State", validators=[DataRequired(), checks.state_code])
    zip_code = StringField("ZIP+4", validators=[DataRequired(), checks.zip9])
    phone = StringField("Phone", validators=[Optional(), checks.us_phone])
    timezone = SelectField("Time zone", choices=TIME_ZONES, validators=[DataRequired()])
    require_two_factor = BooleanField("Require two-factor sign-in for every member")


class MemberForm(FlaskForm):
    """Add or edit a member. A clinician renders services, so needs an individual NPI and taxonomy."""

    name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[DataRequired()], default=Role.CLINICIAN.value)
    # No Optional() here: it would stop the clinician checks below from running on an empty field.
    npi = StringField("Individual NPI", validators=[checks.npi(kind=1)])
    taxonomy = StringField("Taxonomy code", validators=[checks.taxonomy])

    def validate_npi(self, field):
        if self.role.data == Role.CLINICIAN and not field.data:
            raise ValidationError("A clinician needs an individual NPI.")

    def validate_taxonomy(self, field):
        if self.role.data == Role.CLINICIAN and not field.data:
            raise ValidationError("A clinician needs a taxonomy code, e.g. 101YP2500X.")


class NewMemberForm(MemberForm):
    # Length and strength are checked by app.accounts (beside this field), with the member's name and email.
    password = PasswordField("First password", validators=[DataRequired(), Length(max=200)],
                             description=f"At least {MIN_PASSWORD_LENGTH} characters, hard to guess. Tell it to them "
                                         "in person or by phone; they can change it under Account.")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[DataRequired()])


class ConfirmForm(FlaskForm):
    """No fields: a POST that carries only its CSRF token."""


class AuditFilterForm(FlaskForm):
    """GET filters for the audit log, bound to the query string (no CSRF on reads)."""

    class Meta:
        csrf = False

    action = StringField("Action", validators=[Optional(), Length(max=64)])
    member = SelectField("Member", choices=[], validate_choice=False, validators=[Optional()])


class ResolveJobProblemForm(FlaskForm):
    """Mark a background job's failure as dealt with (the problem's id; looked up in the admin's practice)."""

    problem = IntegerField("Problem", validators=[InputRequired()])


class DismissFailedJobForm(FlaskForm):
    """Remove a job RQ gave up on from its failed-job registry (the job's id; only a job of this practice)."""

    job = StringField("Job", validators=[DataRequired(), Length(max=200)])
