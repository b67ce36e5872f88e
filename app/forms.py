"""Validators and helpers shared by the forms of several blueprints."""
from markupsafe import Markup, escape
from wtforms import StringField, ValidationError
from wtforms.validators import Length, Optional
from wtforms.widgets import Select, html_params

from app.billing import identity


class ManyOptionsSelect(Select):
    """A select of thousands of options (a practice's clients), the same HTML as WTForms' own, written straight
    from the field's (value, label) pairs: WTForms normalizes and coerces every choice twice and renders each
    option's attributes one by one, 100 ms for 2,500 clients; this takes a few."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in self.validation_attrs:
            if name not in kwargs and getattr(flags, name, False):
                kwargs[name] = getattr(flags, name)
        chosen = field.data
        options = "".join(f'<option{" selected" if value == chosen else ""} value="{escape(value)}">'
                          f"{escape(label)}</option>" for value, label in field.choices or ())
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


def npi(kind: int | None = None):
    """An NPI with a correct check digit; kind 1 (individual) or 2 (organization) when given."""
    def check(form, field):
        value = identity.digits_only(field.data or "")
        if not value:
            return
        if len(value) != 10:
            raise ValidationError("An NPI has 10 digits.")
        if not identity.npi_is_valid(value):
            raise ValidationError("This NPI's check digit is wrong: look for a typo.")
        if kind == 1 and value[0] != "1":
            raise ValidationError("Use the individual (type 1) NPI, which starts with 1.")
        if kind == 2 and value[0] != "2":
            raise ValidationError("Use the organization (type 2) NPI, which starts with 2.")
        field.data = value
    return check


def taxonomy(form, field):
    value = (field.data or "").strip().upper()
    if value and not identity.taxonomy_is_valid(value):
        raise ValidationError("A taxonomy code has 10 characters and ends in X, e.g. 101YP2500X.")
    field.data = value


def ein(form, field):
    value = (field.data or "").strip()
    if value and not identity.ein_is_valid(value):
        raise ValidationError("An EIN has 9 digits, written 12-3456789.")
    field.data = identity.digits_only(value)


def tax_id(ssn_field: str):
    """The practice's tax ID: an EIN, or the sole provider's SSN when the form's `ssn_field` is ticked."""
    def check(form, field):
        value = (field.data or "").strip()
        if getattr(form, ssn_field).data:
            if not identity.ssn_is_valid(value):
                raise ValidationError("An SSN has 9 digits, written 123-45-6789.")
        elif value and not identity.ein_is_valid(value):
            raise ValidationError("An EIN has 9 digits, written 12-3456789.")
        field.data = identity.digits_only(value)
    return check


def _zip(is_valid, message: str):
    def check(form, field):
        value = (field.data or "").strip()
        if value and not is_valid(value):
            raise ValidationError(message)
        field.data = identity.digits_only(value)
    return check


#: The practice's own address: claims need all nine digits.
zip9 = _zip(identity.zip9_is_valid, "Claims need the full ZIP+4, e.g. 02139-4307.")
#: Anyone else's mailing address: five digits or nine.
us_zip = _zip(identity.zip_is_valid, "Enter a 5-digit ZIP or a ZIP+4, e.g. 02139 or 02139-4307.")


def us_phone(form, field):
    value = identity.digits_only(field.data or "")
    if value.startswith("1") and len(value) == 11:
        value = value[1:]
    if field.data and len(value) != 10:
        raise ValidationError("Enter a 10-digit phone number, e.g. (617) 555-0100.")
    field.data = value


def state_code(form, field):
    value = (field.data or "").strip().upper()
    if value and not (len(value) == 2 and value.isalpha()):
        raise ValidationError("Use the two-letter state code, e.g. MA.")
    field.data = value


def address_fields(prefix: str = "") -> type:
    """A mixin with the fields of a mailing address, named like the model's columns after `prefix`
    (`address_line1` … `zip_code`, or `subscriber_address_line1` …). Whether an address is needed, and
    whole, is the domain's rule; these check only the shape of what was typed."""
    return type("AddressFields", (), {
        f"{prefix}address_line1": StringField("Street address", validators=[Optional(), Length(max=200)]),
        f"{prefix}address_line2": StringField("Address line 2", validators=[Optional(), Length(max=200)]),
        f"{prefix}city": StringField("City", validators=[Optional(), Length(max=100)]),
        f"{prefix}state": StringField("State", validators=[Optional(), state_code],
                                      description="Two letters, e.g. MA."),
        f"{prefix}zip_code": StringField("ZIP code", validators=[Optional(), us_zip],
                                         description="5 digits, or 9 for ZIP+4."),
    })


def _fields_by_id(form) -> dict:
    """Every field of a form by its id, nested FieldList/FormField entries included ("lines-0-code")."""
    found = {}
    for field in form:
        entries = getattr(field, "entries", None)
        if entries is not None:  # FieldList
            for entry in entries:
                found.update(_fields_by_id(entry.form) if hasattr(entry, "form") else {entry.id: entry})
        elif hasattr(field, "form") and field.type == "FormField":
            found.update(_fields_by_id(field.form))
        else:
            found[field.id] = field
    return found


def show_problems(form, problems: dict[str | None, str]) -> None:
    """Put problems a domain function found beside their fields (by name or by id, so "lines-0-code"
    reaches a line of a FieldList); any other key goes above the form."""
    by_id = _fields_by_id(form)
    for name, message in problems.items():
        field = (getattr(form, name, None) or by_id.get(name)) if name else None
        if field is not None and hasattr(field, "errors"):
            if isinstance(field.errors, tuple):
                field.errors = list(field.errors)
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
