from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from app import forms as checks
from app.billing.clients import AUDIO_ONLY_MODIFIERS, FILING_INDICATORS, TELEHEALTH_MODIFIERS


class PayerForm(checks.address_fields(), FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    clearinghouse_payer_id = StringField(
        "Clearinghouse payer ID", validators=[DataRequired(), Regexp(r"^\s*[A-Za-z0-9]{2,20}\s*$",
                                                                     message="Use 2 to 20 letters and digits.")],
        description="The ID your clearinghouse lists for this payer, e.g. 60054.")
    filing_indicator = SelectField("Claim filing indicator", validators=[DataRequired()],
                                   choices=[(code, f"{code} · {label}") for code, label in FILING_INDICATORS.items()],
                                   description="The kind of plan, as claims state it (X12 SBR09).")
    telehealth_modifier = SelectField("Modifier for video sessions", default="95",
                                      choices=list(TELEHEALTH_MODIFIERS.items()))
    audio_only_modifier = SelectField("Modifier for audio-only sessions", default="93",
                                      choices=list(AUDIO_ONLY_MODIFIERS.items()))
