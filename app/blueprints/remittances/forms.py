from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import StringField, ValidationError
from wtforms.validators import DataRequired, Length

from app.extensions import db
from app.models import Claim

#: The largest X12 file a person may upload: a 5,000-claim 835 is about 3 MB.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class X12UploadForm(FlaskForm):
    """One X12 file, read whole as text (UTF-8; bytes that are not become U+FFFD, which no reader accepts
    where it matters). After validation `text` holds the file."""

    file = FileField("X12 file", validators=[FileRequired(message="Choose a file to upload.")])
    text: str = ""

    def validate_file(self, field):
        data = field.data.stream.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise ValidationError("The file is larger than 10 MB, which no single X12 file from a payer should "
                                  "be: check it is the right file, or ask for it in smaller files.")
        if not data.strip():
            raise ValidationError("The file is empty.")
        text = data.decode("utf-8", errors="replace")
        if "\x00" in text:  # X12 is text; the database cannot keep NUL characters either
            raise ValidationError("This is not an X12 text file: it contains NUL bytes.")
        self.text = text


class RemittanceUploadForm(X12UploadForm):
    file = FileField("835 remittance file", validators=[FileRequired(message="Choose the 835 file to upload.")],
                     description="The ERA your clearinghouse or payer gave you (.835, .txt or .x12).")


class AcknowledgementUploadForm(X12UploadForm):
    file = FileField("999 or 277CA file", validators=[FileRequired(message="Choose the 999 or 277CA file to upload.")],
                     description="A 999 says whether the clearinghouse took a claim file; a 277CA what the payer "
                                 "said about each claim.")


class ResolveForm(FlaskForm):
    """Post an unmatched claim payment onto the claim a biller found for it. Made with `prefix` per row
    and the practice whose claims the number must name; after validation `claim` is that claim."""

    control_number = StringField("Claim's patient control number", validators=[
        DataRequired(message="Enter the patient control number of the claim this payment belongs to."),
        Length(max=40)])
    claim: Claim | None = None

    def __init__(self, *args, practice_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.practice_id = practice_id

    def validate_control_number(self, field):
        number = (field.data or "").strip()
        self.claim = db.session.scalar(select(Claim).where(Claim.practice_id == self.practice_id,
                                                           Claim.patient_control_number == number))
        if self.claim is None:
            raise ValidationError(f"No claim of this practice has patient control number {number}.")
        field.data = number


class DismissForm(FlaskForm):
    """Set an unmatched claim payment aside, saying why (made with `prefix` per row)."""

    note = StringField("Why set it aside", validators=[
        DataRequired(message="Say why it is set aside, e.g. “not our patient” or “posted by hand”."),
        Length(max=500)])
