from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from app.blueprints.services.forms import MoneyField
from app.clearinghouse import NAMES


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
    """The practice's insurance settings. The Claim.MD AccountKey is never rendered back: left blank, the
    stored key stays (`key_stored` is given by the view)."""

    clearinghouse = SelectField("Clearinghouse", choices=list(NAMES.items()))
    claimmd_account_key = PasswordField("Claim.MD AccountKey", validators=[Length(max=100)])
    submit_claims_automatically = BooleanField("Send Queued For Submission claims on their own (Sandbox and "
                                               "Claim.MD)")
    poll_every_minutes = IntegerField("Check for answers every (minutes)",
                                      validators=[Optional(), NumberRange(min=1, max=1440,
                                                                          message="Between 1 and 1440 minutes "
                                                                                  "(a day).")],
                                      description="How often Parity asks the clearinghouse for acknowledgements, "
                                                  "claim statuses and remittances; 1 to 1440.")
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

    def __init__(self, *args, key_stored: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.key_stored = key_stored
        # Only whether a key is stored: the page never shows any of it back (it is kept encrypted).
        self.claimmd_account_key.description = (
            "A key is stored. Leave blank to keep it; type a new one to replace it." if key_stored
            else "From Claim.MD → Settings → Account Info. Needed when the clearinghouse is Claim.MD.")

    def validate_claimmd_account_key(self, field):
        field.data = (field.data or "").strip()
        if self.clearinghouse.data == "claimmd" and not (field.data or self.key_stored):
            raise ValidationError("Claim.MD needs the practice's AccountKey.")


class DenialNoteForm(FlaskForm):
    """Appeal a denial: what was sent to the payer, and how."""

    note = TextAreaField("Appeal note", validators=[DataRequired(message="Say what was appealed and how (portal, "
                                                                         "letter, phone)."), Length(max=2000)])


class WriteOffForm(FlaskForm):
    """Write off what a denied claim leaves on the bill."""

    reason = StringField("Write-off reason", validators=[DataRequired(message="Say why the balance is written off."),
                                                         Length(max=500)])


def parse_pointers(text: str) -> list[int]:
    """'1, 3' or '1:3' or '1 3' → [1, 3]; raises ValueError on anything else."""
    parts = [part for part in text.replace(",", " ").replace(":", " ").split() if part]
    if not all(part.isdigit() for part in parts):
        raise ValueError("Diagnosis numbers only, e.g. 1, 3.")
    return [int(part) for part in parts]


def pointers_form(claim, formdata=None) -> FlaskForm:
    """One field per claim line: the numbers of the diagnoses it points at (the claim's list, 1-based)."""

    class PointersForm(FlaskForm):
        def validate(self, extra_validators=None) -> bool:
            ok = super().validate(extra_validators)
            self.pointers = {}
            for line in claim.lines:
                field = self[f"line_{line.id}"]
                try:
                    self.pointers[line.id] = parse_pointers(field.data or "")
                except ValueError as error:
                    field.errors = [*field.errors, str(error)]
                    ok = False
            return ok

    for line in claim.lines:
        setattr(PointersForm, f"line_{line.id}", StringField(
            f"Line {line.position} ({line.code})", default=", ".join(map(str, line.diagnosis_pointers)),
            validators=[Length(max=40)]))
    return PointersForm(formdata=formdata)
