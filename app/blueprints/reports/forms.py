from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, ValidationError
from wtforms.validators import Optional

#: The longest range a report covers (years).
MAX_YEARS = 3
#: The years a report's dates may fall in.
FIRST_YEAR, LAST_YEAR = 1900, 2999
#: The payer choice that means "no insurance" (ReportFilter.payer_id == 0).
SELF_PAY = "0"


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier (Feb 29 → Feb 28); date.min when that is before year 1."""
    if day.year <= years:
        return date.min
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def default_start(today: date) -> date:
    """The last 12 months: from the first day of the month eleven months before this one."""
    month = today.month - 11
    year = today.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


def _plausible(field) -> None:
    """Dates a person means (a typo like 20266 would otherwise reach the database's calendar arithmetic)."""
    if field.data and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(f"Enter a date between {FIRST_YEAR} and {LAST_YEAR}.")


class ReportFilterForm(FlaskForm):
    """GET filters shared by every report, bound to the query string (the URL is the view). The view gives the
    clinician and payer choices, and removes the clinician field for clinicians, whose reports are their own."""

    class Meta:
        csrf = False

    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
    clinician = SelectField("Clinician", choices=[], validate_choice=False, validators=[Optional()])
    payer = SelectField("Payer", choices=[], validate_choice=False, validators=[Optional()])

    def validate_date_to(self, field):
        _plausible(field)
        if self.date_from.data and field.data and self.date_from.data > field.data:
            raise ValidationError("The end date is before the start date.")

    def validate_date_from(self, field):
        _plausible(field)
        if field.data and self.date_to.data and field.data < years_before(self.date_to.data, MAX_YEARS):
            raise ValidationError(f"A report covers at most {MAX_YEARS} years: choose a later start date.")

    def validate_clinician(self, field):
        if field.data and field.data not in {value for value, _ in field.choices}:
            raise ValidationError("Choose a clinician from the list.")

    def validate_payer(self, field):
        if field.data and field.data not in {value for value, _ in field.choices}:
            raise ValidationError("Choose a payer from the list.")

    @property
    def clinician_id(self) -> int | None:
        return int(self.clinician.data) if "clinician" in self and self.clinician.data else None

    @property
    def payer_id(self) -> int | None:
        return int(self.payer.data) if self.payer.data else None
