import json

from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, FieldList, Form, FormField, IntegerField, SelectField, StringField,
                     TextAreaField, TimeField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.billing.places import DEFAULT_PLACES, PLACES_OF_SERVICE, TELEHEALTH_PLACES
from app.blueprints.services.forms import MoneyField
from app.models import Modality, SessionStatus

POS_CHOICES = [(code, f"{code} · {label}") for code, label in PLACES_OF_SERVICE.items()]
MODALITY_CHOICES = [(modality.value, modality.label) for modality in Modality]


class BookingForm(FlaskForm):
    client_id = SelectField("Client", coerce=int, validators=[InputRequired()])
    clinician_id = SelectField("Clinician", coerce=int, validators=[InputRequired()])
    day = DateField("Date", validators=[DataRequired()])
    start_time = TimeField("Starts", validators=[DataRequired()])
    end_time = TimeField("Ends", validators=[DataRequired()])
    # Picking a modality moves the place of service to one that fits it (app/static/places.js reads these).
    modality = SelectField("Modality", choices=MODALITY_CHOICES, validators=[DataRequired()], default="in_person",
                           render_kw={"data-places": json.dumps(DEFAULT_PLACES), "data-places-for": "place_of_service",
                                      "data-telehealth-places": " ".join(sorted(TELEHEALTH_PLACES))})
    place_of_service = SelectField("Place of service", choices=POS_CHOICES, validators=[DataRequired()],
                                   default=DEFAULT_PLACES["in_person"])
    service = StringField("Service (paid in advance)", validators=[Optional(), Length(max=20)],
                          description="Only for services that require payment before the session.")


class SessionFilterForm(FlaskForm):
    """GET filters that list every matching session instead of a day or a week (no CSRF on reads): the home
    page links here for past sessions still Scheduled and for completed sessions whose note is not signed."""

    class Meta:
        csrf = False

    status = SelectField("Status", choices=[("", "Any status")] + [(s.value, s.label) for s in SessionStatus],
                         validators=[Optional()])
    past = BooleanField("Already ended", false_values=("", "0", "false", "off"))
    unsigned = BooleanField("Completed, note not signed", false_values=("", "0", "false", "off"))

    @property
    def active(self) -> bool:
        return bool(self.status.data or self.past.data or self.unsigned.data)


class StatusForm(FlaskForm):
    status = SelectField("Status", choices=[(s.value, s.label) for s in SessionStatus if s != SessionStatus.COMPLETED])


class LineForm(Form):
    """One service line (a sub-form: the outer form carries the CSRF token)."""

    code = StringField("Code", validators=[Optional(), Length(max=20)])
    description = StringField("Description", validators=[Optional(), Length(max=500)])
    units = IntegerField("Units", default=1, validators=[Optional(), NumberRange(min=0, max=99)])
    price = MoneyField("Price", validators=[Optional()])
    modifiers = StringField("Modifiers", validators=[Optional(), Length(max=20)],
                            description="Up to four, e.g. 95 HO")


class LinesForm(FlaskForm):
    lines = FieldList(FormField(LineForm), min_entries=1, max_entries=12)


class CompleteForm(LinesForm):
    minutes = IntegerField("Minutes in session", validators=[InputRequired(), NumberRange(min=0, max=720)])
    time_correction_note = TextAreaField("Why the minutes differ", validators=[Optional(), Length(max=2000)],
                                         description="Required when the minutes differ from start to end.")
    lower_code_reason = TextAreaField("Why bill a lower code", validators=[Optional(), Length(max=2000)],
                                      description="Required to bill a code lower than the minutes support, "
                                                  "e.g. the payer's limit for this client.")


class NoteForm(FlaskForm):
    body = TextAreaField("Note", validators=[Optional(), Length(max=50000)])


class AddendumForm(FlaskForm):
    addendum = TextAreaField("Addendum", validators=[Optional(), Length(max=20000)])
