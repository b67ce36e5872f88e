"""A practice's own records in one zip, to take elsewhere: one CSV per kind of record, the X12 files sent and
received, the bills' PDFs, and a README describing every file's columns.

CSVs go through app/csv_export (text a spreadsheet would run as a formula is defused). Amounts are integer cents,
as Parity keeps them; dates and times ISO 8601 (times in UTC); lists and details kept as JSON text. Notes are in it:
only admins (and operators, `flask practices export`) can make one. No Flask: the CLI and the export job pass
the session and where to write.
"""
from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from app import csv_export
from app.billing.bill_documents import bill_pdf
from app.models import (Adjustment, Allocation, Bill, BillEvent, BillLine, Claim, ClaimEvent, ClaimLine, Client,
                        Contact, InsurancePolicy, NoteAddendum, Payer, Payment, Practice, Refund, Remittance,
                        RemittanceClaim, SessionNote, SessionService, TherapySession, X12File)


@dataclass(frozen=True)
class Part:
    """One CSV: its file name, the table, what one row is, and how its rows belong to the practice."""

    name: str
    model: type
    about: str
    #: None: the table has practice_id; else (column, parent model) whose practice_id counts.
    through: tuple[str, type] | None = None
    #: Columns left out (their content is a file of its own in the zip).
    leave_out: tuple[str, ...] = ()


PARTS = (
    Part("clients.csv", Client, "one row per client"),
    Part("contacts.csv", Contact, "billing contacts and guardians of clients"),
    Part("payers.csv", Payer, "insurance payers the practice bills"),
    Part("policies.csv", InsurancePolicy, "clients' insurance policies (member ID, group, subscriber, priority)"),
    Part("sessions.csv", TherapySession, "therapy sessions"),
    Part("session_services.csv", SessionService, "the services (codes, units, prices) of each session"),
    Part("notes.csv", SessionNote, "clinical notes of sessions, with their diagnoses"),
    Part("note_addenda.csv", NoteAddendum, "text added to signed notes"),
    Part("bills.csv", Bill, "bills (status, number, totals as issued)"),
    Part("bill_lines.csv", BillLine, "the lines of each bill"),
    Part("bill_events.csv", BillEvent, "each bill's history"),
    Part("payments.csv", Payment, "payments received from clients and insurers"),
    Part("allocations.csv", Allocation, "how payments were applied to bills (negative: reversed)"),
    Part("adjustments.csv", Adjustment, "adjustments and write-offs on bills"),
    Part("refunds.csv", Refund, "money given back to clients"),
    Part("claims.csv", Claim, "insurance claims, with what each sent (JSON) and its outcome"),
    Part("claim_lines.csv", ClaimLine, "the service lines of each claim", through=("claim_id", Claim)),
    Part("claim_events.csv", ClaimEvent, "every status change of each claim", through=("claim_id", Claim)),
    Part("remittances.csv", Remittance, "remittance advice (835) received: payer, check or EFT, amounts"),
    Part("remittance_claims.csv", RemittanceClaim, "each claim payment in a remittance, and how it was posted"),
    Part("x12_files.csv", X12File, "the X12 files sent and received; their content is in x12/", leave_out=("content",)),
)
X12_FOLDER, PDF_FOLDER = "x12", "pdfs"


def _value(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _columns(part: Part) -> list:
    table: Table = part.model.__table__
    return [column for column in table.columns if column.name not in part.leave_out]


def _rows(session: Session, part: Part, practice_id: int) -> Iterable[list]:
    columns = _columns(part)
    query = select(*columns)
    if part.through is None:
        query = query.where(part.model.practice_id == practice_id)
    else:
        column, parent = part.through
        query = query.where(getattr(part.model, column).in_(select(parent.id).where(parent.practice_id == practice_id)))
    for row in session.execute(query.order_by(*part.model.__table__.primary_key.columns)).yield_per(2000):
        yield [_value(value) for value in row]


def _describe(column) -> str:
    kind = "integer cents" if column.name.endswith("_cents") else str(column.type).lower()
    if column.name == "id":
        return "Parity's id of the row (other files refer to it as <kind>_id)"
    if column.foreign_keys:
        target = next(iter(column.foreign_keys)).column.table.name
        return f"the id of a row in {target}"
    return kind


def readme(practice: Practice) -> str:
    lines = [f"{practice.legal_name}: records exported from Parity", "",
             "Every CSV has a header row. Amounts are integer cents (12345 is $123.45); dates are YYYY-MM-DD and",
             "times ISO 8601 in UTC; lists and details are JSON text. Text that a spreadsheet would run as a formula",
             "starts with a ' that is not part of the value.", "",
             f"{X12_FOLDER}/: every X12 file sent or received, named <id>-<kind>.x12 (ids as in x12_files.csv).",
             f"{PDF_FOLDER}/: the PDF of every issued bill, named bill-<number>.pdf.", ""]
    for part in PARTS:
        lines.append(f"{part.name}: {part.about}")
        for column in _columns(part):
            lines.append(f"  {column.name}: {_describe(column)}")
        lines.append("")
    return "\n".join(lines)


def write(session: Session, practice_id: int, path: str | Path,
          progress: Callable[[int, int], None] | None = None) -> dict:
    """Write the practice's export to `path` (a temporary name first, renamed when complete). `progress(done,
    total)` is called as the steps finish. Returns how many rows and files went in."""
    practice = session.get(Practice, practice_id)
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    bill_ids = session.scalars(select(Bill.id).where(Bill.practice_id == practice_id,
                                                     Bill.issued_identity.is_not(None)).order_by(Bill.id)).all()
    file_ids = session.scalars(select(X12File.id).where(X12File.practice_id == practice_id)
                               .order_by(X12File.id)).all()
    total, done = len(PARTS) + len(file_ids) + len(bill_ids) + 1, 0
    counts: dict[str, int] = {}

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", readme(practice))
            step()
            for part in PARTS:
                rows = list(_rows(session, part, practice_id))
                archive.writestr(part.name, csv_export.csv_text([column.name for column in _columns(part)], rows))
                counts[part.name] = len(rows)
                step()
            for file_id in file_ids:
                file = session.get(X12File, file_id)
                archive.writestr(f"{X12_FOLDER}/{file.id}-{file.kind}.x12", file.content)
                session.expunge(file)
                step()
            for bill_id in bill_ids:
                bill = session.get(Bill, bill_id)
                archive.writestr(f"{PDF_FOLDER}/bill-{bill.number}.pdf", bill_pdf(bill))
                step()
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return {"rows": counts, "x12_files": len(file_ids), "pdfs": len(bill_ids)}
