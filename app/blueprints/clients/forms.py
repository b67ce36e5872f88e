from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, DateField, EmailField, FieldList, Form, FormField, HiddenField, IntegerField,
                     SelectField, StringField)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from app import forms as checks
from app.billing import estimates
from app.billing.clients import PRIORITIES, RELATIONS, SEXES, SUBSCRIBER_RELATIONSHIPS
from app.blueprints.remittances.forms import X12UploadForm
from app.blueprints.services.forms import MoneyField

SEX_CHOICES = list(SEXES.items())


def optional_id(value) -> int | None:
    """A select's value as a record id; the empty choice is None."""
    return None if value in (None, "") else int(value)


def _email(label: str = "Email") -> EmailField:
    return EmailField(label, validators=[Optional(), Email(check_deliverability=False), Length(max=254)])


def _phone() -> StringField:
    return StringField("Phone", validators=[Optional(), checks.us_phone])


class ClientSearchForm(FlaskForm):
    """The client list's search box, bound to the query string (no CSRF on reads)."""

    class Meta:
        csrf = False

    q = StringField("Search clients", validators=[Optional(), Length(max=100)],
                    description="First, last or preferred name.")


class ClientForm(checks.address_fields(), FlaskForm):
    first_name = StringField("Legal first name", validators=[DataRequired(), Length(max=100)])
    middle_name = StringField("Middle name", validators=[Optional(), Length(max=100)])
    last_name = StringField("Legal last name", validators=[DataRequired(), Length(max=100)])
    preferred_name = StringField("Preferred name", validators=[Optional(), Length(max=100)],
                                 description="What the client likes to be called; bills and claims use the legal name.")
    date_of_birth = DateField("Date of birth", validators=[InputRequired()])
    sex = SelectField("Sex", choices=[("", "Choose…"), *SEX_CHOICES], validators=[DataRequired()],
                      description="As the insurance card records it.")
    phone = _phone()
    email = _email()
    #: Admins and billers choose; the view removes this field for clinicians (their clients are their own).
    primary_clinician_id = SelectField("Primary clinician", coerce=optional_id, choices=[], validate_choice=False,
                                       validators=[Optional()])


class ContactForm(checks.address_fields(), FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    relation = SelectField("Relationship", choices=list(RELATIONS.items()), validators=[DataRequired()])
    is_billing_contact = BooleanField(
        "Billing contact: bills and statements go to this person",
        description="Only one contact receives the bills; choosing this one replaces any other.")
    phone = _phone()
    email = _email()


class PolicyForm(checks.address_fields("subscriber_"), FlaskForm):
    payer_id = SelectField("Payer", coerce=optional_id, choices=[], validate_choice=False,
                           validators=[DataRequired(message="Choose the payer.")])
    member_id = StringField("Member ID", validators=[DataRequired(), Length(max=40)],
                            description="As printed on the insurance card.")
    group_number = StringField("Group number", validators=[Optional(), Length(max=40)])
    priority = SelectField("Priority", coerce=int, choices=list(PRIORITIES.items()), validators=[DataRequired()])
    copay = MoneyField("Copay", validators=[Optional()], description="In dollars; leave empty for none.")
    effective_date = DateField("Effective date", validators=[InputRequired()])
    end_date = DateField("End date", validators=[Optional()], description="Leave empty while the coverage lasts.")
    relationship_to_subscriber = SelectField("Client's relationship to the subscriber",
                                             choices=list(SUBSCRIBER_RELATIONSHIPS.items()), validators=[DataRequired()],
                                             description="The subscriber is the person who holds the policy.")
    subscriber_first_name = StringField("First name", validators=[Optional(), Length(max=100)])
    subscriber_last_name = StringField("Last name", validators=[Optional(), Length(max=100)])
    subscriber_date_of_birth = DateField("Date of birth", validators=[Optional()])
    subscriber_sex = SelectField("Sex", choices=[("", "Choose…"), *SEX_CHOICES], validators=[Optional()])


class CheckEligibilityForm(FlaskForm):
    """Check eligibility now: a POST that carries only its CSRF token."""


class EligibilityResponseForm(X12UploadForm):
    """The 271 a person got back for a downloaded 270 (the files clearinghouse)."""

    file = FileField("271 eligibility response", validators=[FileRequired(message="Choose the 271 file to upload.")],
                     description="The file your clearinghouse or payer gave back for this 270 (.271, .txt or .x12).")
class EstimateLineForm(Form):
    """One service of the catalog on a Good Faith Estimate: how many times and how often (0: not expected)."""

    service_id = HiddenField()
    quantity = IntegerField("Times", default=0, validators=[Optional(), NumberRange(
        min=0, max=estimates.MAX_QUANTITY, message=f"From 0 to {estimates.MAX_QUANTITY}.")])
    frequency = SelectField("How often", choices=list(estimates.FREQUENCIES.items()), default="weekly")


class EstimateForm(FlaskForm):
    """A Good Faith Estimate: who provides the services, the months it covers, the services and diagnoses."""

    clinician = SelectField("Clinician", choices=[], validate_choice=False)
    start = DateField("Starting", validators=[InputRequired("Enter the date the services start.")])
    months = IntegerField("Months it covers", default=estimates.MAX_MONTHS, validators=[
        InputRequired("Enter 1 to 12 months."), NumberRange(min=1, max=estimates.MAX_MONTHS,
                                                            message="From 1 to 12 months.")])
    diagnoses = StringField("Diagnosis codes, when known", validators=[Optional(), Length(max=200)],
                            description="ICD-10-CM codes separated by commas, e.g. F41.1, F32.A.")
    lines = FieldList(FormField(EstimateLineForm))
