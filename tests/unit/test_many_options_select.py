"""The client select of the payment form renders thousands of options: its quicker widget writes exactly the HTML
WTForms' own Select writes, escaping included."""
from wtforms import Form, SelectField
from wtforms.validators import InputRequired

from app.forms import ManyOptionsSelect


class _Plain(Form):
    client_id = SelectField("Client", coerce=int, validators=[InputRequired()])


class _Many(Form):
    client_id = SelectField("Client", coerce=int, validators=[InputRequired()], widget=ManyOptionsSelect())


def _rendered(form_class, data=None, **attributes) -> str:
    form = form_class(data={"client_id": data} if data is not None else None)
    form.client_id.choices = [(1, "O'Brien, Ann"), (2, 'Smith <Jr>, "Bo" & Co'), (3, "Zed, Al")]
    return str(form.client_id(**attributes))


def test_does_the_quick_select_write_what_wtforms_writes():
    for data in (None, 2):
        plain, many = _rendered(_Plain, data, **{"aria-invalid": "true"}), _rendered(_Many, data, **{"aria-invalid": "true"})
        assert many == plain
    assert '<option selected value="2">Smith &lt;Jr&gt;, &#34;Bo&#34; &amp; Co</option>' in _rendered(_Many, 2)
    assert " required" in _rendered(_Many)
