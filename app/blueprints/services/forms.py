from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.billing.money import MoneyError, parse_cents
from app.models import CodeType

ROUNDING_CHOICES = [
    ("", "CMS 8-minute rule (default)"),
    ("full_units_only", "Whole units only"),
    ("any_minutes", "Any part of a unit counts"),
]


class MoneyField(StringField):
    """Dollars as typed ('1,234.50'); `.cents` holds the parsed integer amount after validation."""

    cents: int | None = None

    def pre_validate(self, form):
        self.cents = None
        if self.data not in (None, ""):
            try:
                self.cents = parse_cents(self.data)
            except MoneyError as error:
                raise ValidationError(str(error)) from None


class ServiceForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=20)],
                       description="Type to search the code reference; pick one to fill in the name and description.")
    code_type = SelectField("Type", choices=[(CodeType.CPT.value, "CPT / HCPCS"), (CodeType.CUSTOM.value, "Custom")],
                            validators=[DataRequired()])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    price = MoneyField("Default price", validators=[DataRequired()],
                       description="In dollars; per unit when the service is billed in units.")
    bill_in_units = BooleanField("Bill this code in units")
    minutes_per_unit = IntegerField("Default minutes per unit", validators=[Optional(), NumberRange(min=1, max=480)])
    unit_rounding = SelectField("Partial units", choices=ROUNDING_CHOICES, validators=[Optional()])
    repeatable = BooleanField("This service code can be applied multiple times")
    enabled = BooleanField("Enabled", default=True)
    requires_advance_payment = BooleanField("Requires payment in advance")

