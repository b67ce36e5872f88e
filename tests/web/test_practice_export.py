"""`flask practices export ID -o FILE.zip`: one practice's records in CSVs (formulas defused, notes included), its
X12 files and its bills' PDFs, a README describing every file's columns, and nothing of another practice."""
import csv
import io
import json
import os
import zipfile

from sqlalchemy import select

from app import jobs, practice_export
from app.billing import bills
from app.extensions import db
from app.models import Bill, Claim, Role, X12File
from tests.support.insurance import insured


def _csv(archive: zipfile.ZipFile, name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode())))


def test_a_practice_export_holds_its_records_files_and_pdfs_and_no_one_elses(app, make, tmp_path):
    ours = insured(make, app)
    formula_client = make.client(ours.practice, first_name="=HYPERLINK(\"http://x\")", last_name="Quinn",
                                 primary_clinician_id=ours.clinician.id)
    claim_id = ours.claim(member_id="MEMOURS1", client=formula_client)
    ours.claim(member_id="MEMOURS2")
    theirs = insured(make, app)
    their_client = make.client(theirs.practice, first_name="Zebulon", last_name="Otherpractice",
                               primary_clinician_id=theirs.clinician.id)
    theirs.claim(member_id="MEMTHEIRS", client=their_client)
    with app.app_context():
        assert jobs.submit_claims(ours.practice.id)["sent"] == 2
        bill = db.session.get(Bill, db.session.get(Claim, claim_id).bill_id)
        bills.open_bill(bill, send_now=False)
        db.session.commit()
        bill_number = bill.number
        sent_files = {file.id: file.content for file in db.session.scalars(
            select(X12File).where(X12File.practice_id == ours.practice.id))}
        db.session.remove()
    assert sent_files

    output = tmp_path / "export.zip"
    result = app.test_cli_runner().invoke(args=["practices", "export", str(ours.practice.id), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert not list(tmp_path.glob(".*partial"))
    with zipfile.ZipFile(output) as archive:
        names = set(archive.namelist())
        assert {part.name for part in practice_export.PARTS} | {"README.txt"} <= names
        readme = archive.read("README.txt").decode()
        for part in practice_export.PARTS:
            header = next(csv.reader(io.StringIO(archive.read(part.name).decode())))
            assert f"{part.name}: " in readme
            assert all(f"  {column}: " in readme for column in header), part.name
        clients = _csv(archive, "clients.csv")
        assert {row["last_name"] for row in clients} >= {"Quinn"}
        assert "'=HYPERLINK(\"http://x\")" in {row["first_name"] for row in clients}
        everything = b"".join(archive.read(name) for name in names)
        assert b"Otherpractice" not in everything and b"MEMTHEIRS" not in everything
        assert {row["member_id"] for row in _csv(archive, "policies.csv")} == {"MEMOURS1", "MEMOURS2"}
        assert {"F41.1"} <= {code for row in _csv(archive, "notes.csv") for code in json.loads(row["diagnosis_codes"])}
        claim_lines = _csv(archive, "claim_lines.csv")
        assert len(claim_lines) == 2 and all(int(row["charge_cents"]) == 15000 for row in claim_lines)
        assert {row["status"] for row in _csv(archive, "claims.csv")} == {"sent"}
        for file_id, content in sent_files.items():
            [name] = [name for name in names if name.startswith(f"x12/{file_id}-")]
            assert archive.read(name).decode() == content
        assert archive.read(f"pdfs/bill-{bill_number}.pdf").startswith(b"%PDF")
        assert len([name for name in names if name.startswith("pdfs/")]) == 1


def test_an_admin_exports_in_the_background_and_downloads_until_the_link_expires(app, client, make, sign_in):
    from rq import SimpleWorker

    from app.redis_conn import get_redis

    world = insured(make, app)
    world.claim(member_id="MEMADMIN1")
    sign_in(make.member(world.practice, Role.ADMIN))
    page = client.get("/settings/practice")
    assert 'id="export-start"' in page.text and 'id="export-download"' not in page.text
    started = client.post("/settings/practice/export", headers={"HX-Request": "true"})
    assert started.status_code == 200 and 'id="export-bar"' in started.text and "load delay:1s" in started.text
    with app.app_context():
        SimpleWorker([jobs.queue()], connection=get_redis()).work(burst=True)
    progress = client.get("/settings/practice/export", headers={"HX-Request": "true"})
    assert progress.status_code == 286 and 'id="export-download"' in progress.text
    download = client.get("/settings/practice/export/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        assert [row["member_id"] for row in _csv(archive, "policies.csv")] == ["MEMADMIN1"]
        assert "notes.csv" in archive.namelist()
    with app.app_context():
        state = jobs.practice_export_state(world.practice.id)
        old = state["expires_at"].timestamp() - 2 * app.config["EXPORT_LINK_SECONDS"]
        os.utime(state["path"], (old, old))
    expired = client.get("/settings/practice/export/download")
    assert expired.status_code == 303
    assert 'id="export-download"' not in client.get("/settings/practice").text
    sign_in(make.member(world.practice, Role.BILLER))
    assert client.get("/settings/practice/export/download").status_code == 403
