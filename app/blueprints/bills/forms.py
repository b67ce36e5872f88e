from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, DecimalField, HiddenField, IntegerField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from app.blueprints.services.forms import MoneyField
from app.forms import ManyOptionsSelect
from app.models import AdjustmentKind, BillStatus, PaymentMethod

METHOD_CHOICES = [(method.value, method.label) for method in PaymentMethod]


class BillFilterForm(FlaskForm):
    """GET filters for the bills list (no CSRF on reads)."""

    class Meta:
        csrf = False

    status = SelectField("Status", choices=[("", "All")] + [(s.label, s.label) for s in BillStatus],
                         validators=[Optional()])
    client = SelectField("Client", choices=[], validate_choice=False, validators=[Optional()])
    clinician = SelectField("Clinician", choices=[], validate_choice=False, validators=[Optional()])
    date_from = DateField("Service from", validators=[Optional()])
    date_to = DateField("Service to", validators=[Optional()])
    overdue = BooleanField("Past their terms only", validators=[Optional()], false_values=("", "0", "false", "off"),
                           description="Open bills still unpaid after their due date.")


class LineEditForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=20)])
    description = StringField("Description", validators=[Optional(), Length(max=500)])
    units = IntegerField("Units", default=1, validators=[InputRequired(), NumberRange(min=1, max=99)])
    price = MoneyField("Price", validators=[Optional()])
    modifiers = StringField("Modifiers", validators=[Optional(), Length(max=20)])
    #: Set by the Correct the claim page: the change also corrects the claim that left (app/billing/corrections.py).
    correct_claim = HiddenField()


class RemoveLineForm(FlaskForm):
    correct_claim = HiddenField()


class VoidForm(FlaskForm):
    # Its own id: the adjustment form on the same page has a `reason` too, and a label must name one field.
    reason = TextAreaField("Why is the bill voided?", validators=[DataRequired(), Length(max=1000)], id="void-reason")


class AdjustmentForm(FlaskForm):
    kind = SelectField("Kind", choices=[(kind.value, kind.label) for kind in AdjustmentKind])
    amount = MoneyField("Amount", validators=[DataRequired()])
    reason = StringField("Reason", validators=[DataRequired(), Length(max=500)])


class PaymentForm(FlaskForm):
    client_id = SelectField("Client", coerce=int, validators=[InputRequired()], widget=ManyOptionsSelect())
    source = SelectField("From", choices=[("client", "Client"), ("insurance", "Insurance")])
    method = SelectField("Method", choices=METHOD_CHOICES)
    received_on = DateField("Received on", validators=[DataRequired()])
    amount = MoneyField("Amount", validators=[DataRequired()])
    reference = StringField("Reference", validators=[Optional(), Length(max=100)],
                            description="Check number, card authorization, ACH trace.")
    oldest_first = BooleanField("Apply to the oldest open bills first", default=True)
    #: The bill the payment is recorded from: it takes the money first.
    bill_id = IntegerField(widget=HiddenInput(), validators=[Optional()])


class RefundForm(FlaskForm):
    method = SelectField("Method", choices=METHOD_CHOICES)
    refunded_on = DateField("Refunded on", validators=[DataRequired()])
    amount = MoneyField("Amount", validators=[DataRequired()])
    reference = StringField("Reference", validators=[Optional(), Length(max=100)])


class PaymentFilterForm(FlaskForm):
    """GET filters for the payments list and its CSV (no CSRF on reads)."""

    class Meta:
        csrf = False

    date_from = DateField("Received from", validators=[Optional()])
    date_to = DateField("Received to", validators=[Optional()])
    method = SelectField("Method", choices=[("", "Any method")] + METHOD_CHOICES, validators=[Optional()])
    client = SelectField("Client", choices=[], validate_choice=False, validators=[Optional()])


class ReverseForm(FlaskForm):
    reason = StringField("Why is the payment reversed?", validators=[DataRequired(), Length(max=500)])


class BillingSettingsForm(FlaskForm):
    bill_on_complete = BooleanField("Create a bill when a session is marked complete")
    open_bills_automatically = BooleanField("Open bills automatically")
    email_bills_when_opened = BooleanField("Email bills when opened")
    bill_prefix = StringField("Bill number prefix", validators=[Optional(), Length(max=10)])
    payment_terms_days = IntegerField("Payment terms (days)", validators=[InputRequired(), NumberRange(min=0, max=365)])
    remit_to = TextAreaField("Remit-to address", validators=[Optional(), Length(max=500)],
                             description="Printed on bills; empty means the practice address.")
    bill_message = TextAreaField("Message on bills", validators=[Optional(), Length(max=1000)])
    cms1500_offset_x = DecimalField(
        "Move right (mm)", places=1, validators=[Optional(), NumberRange(min=-25, max=25, message="Between -25 and 25 mm.")],
        description="Negative moves the data left. Between -25 and 25 mm, to a tenth.")
    cms1500_offset_y = DecimalField(
        "Move down (mm)", places=1, validators=[Optional(), NumberRange(min=-25, max=25, message="Between -25 and 25 mm.")],
        description="Negative moves the data up. Between -25 and 25 mm, to a tenth.")
