from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import Length, Optional, Regexp

from app.blueprints.services.forms import MoneyField


class ClaimFilterForm(FlaskForm):
    """GET filters for the claims page, bound to the query string (the URL is the view)."""

    class Meta:
        csrf = False

    status = StringField("Status", validators=[Optional()])
    payer = SelectField("Payer", choices=[], validate_choice=False, validators=[Optional()])
    clinician = SelectField("Clinician", choices=[], validate_choice=False, validators=[Optional()])
    client = StringField("Client", validators=[Optional(), Length(max=100)])
    date_from = DateField("Service from", validators=[Optional()])
    date_to = DateField("Service to", validators=[Optional()])
    amount_min = MoneyField("Charge at least", validators=[Optional()])
    amount_max = MoneyField("Charge at most", validators=[Optional()])


class InsuranceSettingsForm(FlaskForm):
    clearinghouse = SelectField("Clearinghouse", choices=[("sandbox", "Sandbox (practice and demo)"),
                                                          ("claimmd", "Claim.MD"),
                                                          ("files", "Files: download 837, upload 999/277CA/835")])
    submitter_name = StringField("Submitter name", validators=[Optional(), Length(max=60)])
    submitter_id = StringField("Submitter ID", validators=[Optional(), Length(max=15),
                                                           Regexp(r"^[A-Za-z0-9]*$", message="Letters and digits only.")],
                               description="The ID your clearinghouse gave you (ISA06, NM1*41).")
    receiver_name = StringField("Receiver name", validators=[Optional(), Length(max=60)])
    receiver_id = StringField("Receiver ID", validators=[Optional(), Length(max=15),
                                                         Regexp(r"^[A-Za-z0-9]*$", message="Letters and digits only.")])
    create_claims_automatically = BooleanField("Create claims automatically when a bill is made for an insured client")
    billing_provider = SelectField("Billing provider", choices=[("group", "The practice (group NPI); clinicians render"),
                                                                ("individual", "Each clinician's own NPI")])
