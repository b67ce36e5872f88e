"""Operator commands: `flask users …`, `flask practices …`, `flask seed-demo`, `flask claims …`,
`flask remittances …`, `flask reports build`, `flask eligibility check`, `flask diagnoses …`, `flask backup …`."""
import os
import sys
import time
from pathlib import Path

import click
import flask_migrate
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from app import accounts, backups, csv_export, jobs, practice_export, seed, throttle, two_factor, warm
from app.accounts import MemberDetails, RuleViolation
from app.billing import catalog, dates, diagnoses, eligibility, era, submissions, summaries
from app.billing import claims as claim_rules
from app.clearinghouse.base import ClearinghouseError
from app.extensions import db
from app.config import secret_key as config_secret_key
from app.models import Claim, ClaimFile, ClaimStatus, Client, Member, Practice, Role

users = AppGroup("users", help="Manage the people who sign in.")
codes_cli = AppGroup("codes", help="Manage a practice's service codes.")
practices = AppGroup("practices", help="Manage practices (tenants).")


def _practice(reference: str) -> Practice:
    """A practice by id or by exact legal name."""
    practice = db.session.get(Practice, int(reference)) if reference.isdigit() else db.session.scalar(
        select(Practice).where(Practice.legal_name == reference))
    if practice is None:
        raise click.BadParameter(f"no practice {reference!r}; see `flask practices list`", param_hint="--practice")
    return practice


@practices.command("create")
@click.argument("legal_name")
def create_practice(legal_name: str) -> None:
    """Create a practice; then add its first admin with `flask users create`."""
    practice = Practice(legal_name=legal_name)
    db.session.add(practice)
    db.session.commit()
    click.echo(f"Created practice {practice.id}: {practice.legal_name}")


@practices.command("list")
def list_practices() -> None:
    """List practices with their ids."""
    for practice in db.session.scalars(select(Practice).order_by(Practice.id)):
        click.echo(f"{practice.id}\t{practice.legal_name}")


@practices.command("export")
@click.argument("practice_ref", metavar="ID")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The zip file to write.")
def export_practice(practice_ref: str, output: str) -> None:
    """Write one practice's records to a zip: a CSV per kind of record (notes included), its X12 files, its
    bills' PDFs and a README describing every column."""
    practice = _practice(practice_ref)
    started = time.perf_counter()
    summary = practice_export.write(db.session, practice.id, output)
    db.session.rollback()
    click.echo(f"Wrote {output}: {sum(summary['rows'].values())} rows in {len(summary['rows'])} CSV files, "
               f"{summary['x12_files']} X12 files, {summary['pdfs']} PDFs, in {time.perf_counter() - started:.1f} s.")


@users.command("create")
@click.option("--practice", "practice_ref", required=True, help="Practice id or legal name.")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--name", help="Full name (defaults to the email's local part).")
@click.option("--npi", help="Individual NPI (clinicians).")
@click.option("--taxonomy", help="Taxonomy code (clinicians).")
@click.password_option(help="First password (prompted when not given).")
def create_user(practice_ref, email, role, name, npi, taxonomy, password) -> None:
    """Add a member to a practice."""
    practice = _practice(practice_ref)
    details = MemberDetails(email=email, name=name or email.split("@")[0], role=Role(role), npi=npi, taxonomy=taxonomy)
    try:
        member = accounts.add_member(practice, details, password, welcome=False)
    except RuleViolation as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {member.role} {member.email} in {practice.legal_name}.")


@users.command("set-password")
@click.argument("email")
@click.password_option(help="New password (prompted when not given).")
def set_password(email: str, password: str) -> None:
    """Set a member's password and end their open sessions."""
    member = db.session.scalar(select(Member).where(Member.email == email.strip().lower()))
    if member is None:
        raise click.ClickException(f"no member signs in with {email}")
    try:
        accounts.set_password(member, password)
    except RuleViolation as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    throttle.clear_account(member.email)
    click.echo(f"Password set for {member.email}; their open sessions have ended.")


@users.command("reset-two-factor")
@click.argument("email")
def reset_two_factor(email: str) -> None:
    """Turn two-factor sign-in off for a member who lost their phone and their recovery codes."""
    member = db.session.scalar(select(Member).where(Member.email == email.strip().lower()))
    if member is None:
        raise click.ClickException(f"no member signs in with {email}")
    if not two_factor.reset(member):
        click.echo(f"{member.email} does not use two-factor sign-in: nothing changed.")
        return
    db.session.commit()
    click.echo(f"Two-factor sign-in is off for {member.email}; they sign in with their password alone "
               "(and set it up again first if their practice requires it).")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only when the database has no practice yet (first start).")
@with_appcontext
def seed_demo(if_empty: bool) -> None:
    """Create (or complete) the demo practice; running it again changes nothing."""
    if if_empty and db.session.scalar(select(Practice.id).limit(1)) is not None:
        click.echo("The database already has a practice: demo data not added.")
        return
    created = seed.seed_demo()
    db.session.commit()
    click.echo("Demo practice ready." if created else "Demo practice already present.")
    click.echo(seed.sign_in_help())


@codes_cli.command("import-csv")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--practice", "practice_ref", required=True, help="Practice id or legal name.")
def import_csv(file, practice_ref: str) -> None:
    """Create services from a CSV file: code,type,name,description,price,units,minutes_per_unit,repeatable,enabled.

    All or nothing: any bad row is reported with its line number and nothing is saved."""
    practice = _practice(practice_ref)
    try:
        services = catalog.import_csv(practice, file.read())
    except catalog.CatalogProblems as error:
        db.session.rollback()
        for where, message in error.problems.items():
            click.echo(f"{file.name}: {where}: {message}", err=True)
        raise click.ClickException("nothing was imported") from error
    db.session.commit()
    click.echo(f"Imported {len(services)} service{'s' if len(services) != 1 else ''} into {practice.legal_name}.")


claims_cli = AppGroup("claims", help="Export, list, submit and poll insurance claims.")


def _claims_query(status: str | None, practice_ref: str | None):
    query = select(Claim).order_by(Claim.id)
    if status:
        wanted = ClaimStatus.from_label(status)
        if wanted is None:
            raise click.BadParameter(f"unknown status {status!r}; use one of: "
                                     + ", ".join(s.label for s in ClaimStatus), param_hint="--status")
        query = query.where(Claim.status == wanted)
    if practice_ref:
        query = query.where(Claim.practice_id == _practice(practice_ref).id)
    return query


@claims_cli.command("export-837")
@click.option("--status", default="Queued For Submission", show_default=True)
@click.option("--claim", "control_numbers", multiple=True,
              help="A claim's control number (repeatable): export these claims whatever their status.")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--practice", "practice_ref", help="Practice id or legal name (default: all, one file per practice "
              "is refused: give --practice when several practices have claims).")
@click.option("--mark-sent", is_flag=True, help="Mark the exported claims Sent.")
@click.option("--test", "usage_test", is_flag=True, help="Write a test file (ISA15 T) instead of production.")
def export_837(status, control_numbers, output, practice_ref, mark_sent, usage_test) -> None:
    """Write validated 837P files of the selected claims, one per billing provider (OUTPUT, or OUTPUT with the
    provider's NPI before its extension when there are several); exit non-zero with the reason when it cannot.
    With --claim nothing about the claims changes unless --mark-sent is given."""
    if control_numbers:
        query = select(Claim).where(Claim.patient_control_number.in_(control_numbers)).order_by(Claim.id)
        if practice_ref:
            query = query.where(Claim.practice_id == _practice(practice_ref).id)
        selected = db.session.scalars(query).all()
        missing = sorted(set(control_numbers) - {claim.patient_control_number for claim in selected})
        if missing:
            raise click.ClickException(f"no claim with control number {', '.join(missing)}")
    else:
        selected = db.session.scalars(_claims_query(status, practice_ref)).all()
    if not selected:
        raise click.ClickException(f"no claims with status {status!r}")
    practices = {claim.practice_id for claim in selected}
    if len(practices) > 1:
        raise click.ClickException("claims of several practices match: choose one with --practice")
    if mark_sent:
        not_queued = [claim for claim in selected if claim.status != ClaimStatus.QUEUED]
        if not_queued:
            raise click.ClickException(
                f"--mark-sent moves only Queued For Submission claims; {not_queued[0].patient_control_number} is "
                f"{ClaimStatus(not_queued[0].status).label}")
    practice = db.session.get(Practice, practices.pop())
    export = claim_rules.write_batches(practice, selected, usage="T" if usage_test else "P")
    if export.rejected:
        if control_numbers and not mark_sent:
            db.session.rollback()  # --claim changes nothing: the claims stay as they were
        else:
            db.session.commit()  # keep the stored file and the claims' Needs Review status
        raise click.ClickException(f"no file written: {export.rejected[0].problems[0]['message']}")
    by_file = {file.id: [claim for claim in selected if claim.id in _claim_ids_in(file)] for file in export.files}
    paths = _output_paths(output, export.files, by_file)
    for file, path in zip(export.files, paths):
        with open(path, "w", encoding="ascii") as handle:
            handle.write(file.content)
        if mark_sent:
            claim_rules.mark_sent(by_file[file.id], file, source="person")
    db.session.commit()
    for file, path in zip(export.files, paths):
        count = len(by_file[file.id])
        click.echo(f"Wrote {count} claim{'s' if count != 1 else ''} to {path} "
                   f"(interchange {file.interchange_control_number}){'; marked Sent' if mark_sent else ''}.")


def _claim_ids_in(file) -> set[int]:
    return set(db.session.scalars(select(ClaimFile.claim_id).where(ClaimFile.file_id == file.id)))


def _output_paths(output: str, files: list, by_file: dict) -> list[str]:
    """One file keeps the name asked for; several (one per billing provider) add the provider's NPI to it."""
    if len(files) == 1:
        return [output]
    stem, dot, extension = output.rpartition(".")
    if not dot or "/" in extension:
        stem, extension = output, ""
    npis = [by_file[file.id][0].snapshot["billing_provider"]["npi"] for file in files]
    return [f"{stem}-{npi}{'.' + extension if extension else ''}" for npi in npis]


@claims_cli.command("list")
@click.option("--status")
@click.option("--practice", "practice_ref")
@click.option("--format", "output_format", type=click.Choice(["table", "csv"]), default="table", show_default=True)
def list_claims(status, practice_ref, output_format) -> None:
    """One row per claim: control number, client, payer, date of service, charge, status, paid, patient owes, and
    the payer order (primary, secondary, tertiary), frequency (1, 7, 8) and the claim it replaces or follows."""
    header = ["patient_control_number", "client", "payer", "date_of_service", "charge", "status", "insurance_paid",
              "patient_responsibility", *claim_rules.LINEAGE_COLUMNS]
    claims = db.session.scalars(_claims_query(status, practice_ref)).all()
    lineage = claim_rules.lineage(claims)
    rows = [[claim.patient_control_number, claim.client.legal_name, claim.payer.name, claim.service_date.isoformat(),
             csv_export.amount(claim.total_charge_cents), ClaimStatus(claim.status).label,
             csv_export.amount(claim.paid_cents), csv_export.amount(claim.patient_responsibility_cents),
             *lineage[claim.id]] for claim in claims]
    if output_format == "csv":
        csv_export.write_csv(sys.stdout, header, rows)
        return
    widths = [max(len(str(value)) for value in column) for column in zip(header, *rows)]
    for row in [header, *rows]:
        click.echo("  ".join(str(value).ljust(width) for value, width in zip(row, widths)).rstrip())


def _practices_for(practice_ref: str | None) -> list[Practice]:
    if practice_ref:
        return [_practice(practice_ref)]
    return db.session.scalars(select(Practice).order_by(Practice.id)).all()


@claims_cli.command("submit")
@click.option("--practice", "practice_ref", help="Practice id or legal name (default: every practice).")
def submit_claims(practice_ref) -> None:
    """Queue the submission of every Queued For Submission claim to the clearinghouse, and return at once.
    A running worker (`python worker.py`) sends them."""
    queued = 0
    for practice in _practices_for(practice_ref):
        if practice.clearinghouse == "files":
            click.echo(f"{practice.legal_name}: sends claims as files; download them from the claims page.")
            continue
        ready = len(db.session.scalars(submissions.ready_to_send(practice.id)).all())
        waiting = submissions.waiting(practice.id)
        if not ready and not waiting:
            click.echo(f"{practice.legal_name}: nothing to send.")
            continue
        job_id = jobs.enqueue_submission(practice.id, job_id=f"submit_claims-{practice.id}-cli-{time.time_ns()}",
                                         after_commit=False)
        queued += 1
        click.echo(f"{practice.legal_name}: {ready} claim{'s' if ready != 1 else ''} queued for submission "
                   f"(job {job_id}).")
    if not queued:
        click.echo("No submission queued.")


@claims_cli.command("poll")
@click.option("--practice", "practice_ref", help="Practice id or legal name (default: every practice).")
def poll_clearinghouse(practice_ref) -> None:
    """Queue one poll-and-fetch cycle now: acknowledgements, claim statuses and 835s. A running worker does it."""
    for practice in _practices_for(practice_ref):
        if practice.clearinghouse == "files":
            click.echo(f"{practice.legal_name}: uploads its acknowledgements and 835s by hand; nothing to poll.")
            continue
        jobs.enqueue_poll(practice.id, job_suffix=f"cli-{time.time_ns()}")
        click.echo(f"{practice.legal_name}: poll queued.")


remittances_cli = AppGroup("remittances", help="Post payers' remittance advice (835).")


@remittances_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--practice", "practice_ref", help="Practice id or legal name (default: the practice whose NPI or "
              "tax ID the 835 names as payee, or the only practice).")
def import_remittance(path, practice_ref) -> None:
    """Post one 835 file. Exits non-zero with the reason, changing nothing, when it is refused."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    try:
        practice = _practice(practice_ref) if practice_ref else _payee_practice(era.read(text))
        result = era.import_835(practice, text, source="command line")
        db.session.commit()
    except era.RemittanceRefused as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    for remittance in result.remittances:
        click.echo(f"Posted {remittance.payer_name} payment {remittance.trace_number}: "
                   f"{remittance.claim_count - remittance.unmatched_count} claim payment(s) posted, "
                   f"{remittance.unmatched_count} unmatched (remittance #{remittance.id}).")


def _payee_practice(parsed) -> Practice:
    candidates = {payment.payee_npi for payment in parsed if payment.payee_npi}
    tax_ids = {payment.payee_tax_id for payment in parsed if payment.payee_tax_id}
    practices = db.session.scalars(select(Practice)).all()
    matches = [p for p in practices if (p.group_npi and p.group_npi in candidates) or
               (p.tax_id and p.tax_id in tax_ids)]
    if not matches:
        clinicians = db.session.scalars(select(Member).where(Member.npi.in_(candidates))).all() if candidates else []
        matches = list({m.practice_id: m.practice for m in clinicians}.values())
    if len(matches) == 1:
        return matches[0]
    if not matches and len(practices) == 1:
        return practices[0]
    raise era.RemittanceRefused("Cannot tell which practice this 835 is for: give --practice.")


eligibility_cli = AppGroup("eligibility", help="Ask payers about clients' coverage (270/271).")


@eligibility_cli.command("check")
@click.argument("client_id", type=int)
@click.option("--practice", "practice_ref", help="Practice id or legal name (default: the client's).")
@click.option("--x12-dir", "x12_dir", type=click.Path(file_okay=False), help="Write the 270 sent and the 271 "
              "received into this directory.")
def check_eligibility(client_id, practice_ref, x12_dir) -> None:
    """Check the client's primary policy now and print what the payer said; exits non-zero with the reason when
    the payer rejects the inquiry or no answer comes."""
    client = db.session.get(Client, client_id)
    if client is None or (practice_ref and client.practice_id != _practice(practice_ref).id):
        raise click.BadParameter(f"no client {client_id} in that practice", param_hint="CLIENT_ID")
    policy = eligibility.primary_policy(client, dates.practice_today(client.practice_id))
    if policy is None:
        raise click.ClickException(f"{client.display_name} has no primary insurance policy.")
    try:
        check = eligibility.start_check(policy, source="cli")
        eligibility.run_check(check, jobs.eligibility_adapter(client.practice_id))
    except (eligibility.EligibilityProblem, ClearinghouseError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    if x12_dir:
        directory = Path(x12_dir)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{check.trace_number}.270").write_text(check.request_270, encoding="utf-8")
        if check.response_271:
            (directory / f"{check.trace_number}.271").write_text(check.response_271, encoding="utf-8")
    click.echo(f"{client.display_name}, {policy.payer.name} member {policy.member_id} (check #{check.id}):")
    if check.status in ("rejected", "failed"):
        raise click.ClickException(eligibility.summary(check))
    click.echo(f"  coverage: {'active' if check.active else 'inactive' if check.active is False else 'not said'}"
               + (f" ({check.plan_name})" if check.plan_name else ""))
    for label, value in eligibility.printable(check):
        click.echo(f"  {label}: {value}")


reports_cli = AppGroup("reports", help="The reports' summaries.")


@reports_cli.command("build")
@click.option("--practice", "practice_ref", help="Practice id or legal name (default: every practice).")
@click.option("--all", "everything", is_flag=True, help="Rebuild even summaries that are built already.")
def build_reports(practice_ref, everything) -> None:
    """Work out the reports' summaries from the entries, for practices whose summaries are not built yet (those
    created before them, or whose time zone changed), or with --all for every one."""
    for practice in _practices_for(practice_ref):
        started = time.perf_counter()
        if everything:
            summaries.rebuild(db.session, practice.id)
        elif not summaries.ensure_built(db.session, practice.id):
            continue
        db.session.commit()
        click.echo(f"{practice.legal_name}: report summaries built in {time.perf_counter() - started:.1f} s")


def init_app(app: Flask) -> None:
    app.cli.add_command(reports_cli)
    app.cli.add_command(claims_cli)
    app.cli.add_command(remittances_cli)
    app.cli.add_command(codes_cli)
    app.cli.add_command(users)
    app.cli.add_command(practices)
    app.cli.add_command(seed_demo)
    app.cli.add_command(diagnoses_cli)
    app.cli.add_command(eligibility_cli)
    app.cli.add_command(backup_cli)


# --- flask diagnoses … ----------------------------------------------------------------------------------

diagnoses_cli = AppGroup("diagnoses", help="The installed ICD-10-CM code set and the diagnosis codes in use.")


@diagnoses_cli.command("check")
@click.pass_context
def check_diagnoses(context: click.Context) -> None:
    """List the diagnosis codes stored in notes, addenda and claims that are not billable in the installed
    code set, by practice, with how many records carry each; exit status 1 when there is any."""
    unbillable = diagnoses.unbillable_codes_in_use(db.session)
    practice_names = dict(db.session.execute(select(Practice.id, Practice.legal_name)).all())
    current_practice_id = None
    for use in unbillable:
        if use.practice_id != current_practice_id:
            current_practice_id = use.practice_id
            click.echo(f"{practice_names[use.practice_id]} (practice {use.practice_id})")
        records = ", ".join(f"{count} {kind}" for kind, count in use.records_by_kind.items())
        click.echo(f"  {use.code}\t{records}\t{use.problem}")
    if unbillable:
        codes = len({use.code for use in unbillable})
        click.echo(f"{codes} diagnosis code{'s' if codes != 1 else ''} in use "
                   f"{'are' if codes != 1 else 'is'} not billable in the {diagnoses.RELEASE_NAME}.", err=True)
        context.exit(1)
    click.echo(f"Every diagnosis code in use is billable in the {diagnoses.RELEASE_NAME}.")


@diagnoses_cli.command("index")
def index_diagnoses() -> None:
    """Build the diagnosis search index into the instance folder's cache/ now (after an upgrade), so the web
    server's and the worker's next start only load it."""
    diagnoses.preload(warm.cache_dir(current_app.instance_path))
    click.echo(f"The {diagnoses.RELEASE_NAME} search index is in {warm.cache_dir(current_app.instance_path)}/.")


# --- flask backup … -------------------------------------------------------------------------------------

backup_cli = AppGroup("backup", help="Back up the installation, check an archive, restore one.")


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


@backup_cli.command("create")
@click.option("--to", "to_dir", type=click.Path(file_okay=False), help="Folder for the archive (default: BACKUP_DIR).")
@click.option("--rotate", is_flag=True, help="Then delete the folder's older archives but BACKUP_KEEP_DAILY daily "
              "and BACKUP_KEEP_WEEKLY weekly (7 and 4).")
def create_backup(to_dir, rotate) -> None:
    """Write a consistent snapshot of the database and the instance files (the secret key) into one archive named
    by date and time, with a manifest; Parity may keep running. Exits non-zero with the reason on any failure."""
    to_dir = to_dir or current_app.config["BACKUP_DIR"]
    if not to_dir:
        raise click.UsageError("give --to DIR or set BACKUP_DIR")
    db.session.remove()
    try:
        backup = jobs.take_backup(to_dir)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    rows = sum(backup.manifest["row_counts"].values())
    click.echo(f"Wrote {backup.path} ({_megabytes(backup.path.stat().st_size)}, {rows} rows in "
               f"{len(backup.manifest['row_counts'])} tables) in {backup.seconds:.1f} s.")
    if rotate:
        deleted = backups.rotate(to_dir, daily=current_app.config["BACKUP_KEEP_DAILY"],
                                 weekly=current_app.config["BACKUP_KEEP_WEEKLY"])
        click.echo(f"Deleted {len(deleted)} older archive{'s' if len(deleted) != 1 else ''}.")


@backup_cli.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
def verify_backup(file) -> None:
    """Check an archive against its manifest: every part present with its SHA-256, the database readable."""
    try:
        manifest = backups.verify(file)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{file}: good. Parity {manifest['parity_version']}, {manifest['database']} at migration "
               f"{manifest['migration_head']}, taken {manifest['created_at']}, "
               f"{sum(manifest['row_counts'].values())} rows.")


@backup_cli.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that is not empty (everything in it is lost).")
def restore_backup(file, force) -> None:
    """Restore an archive into an empty database (stop the web servers and workers first), migrate it forward if
    it is older than this Parity, and rebuild the report summaries. A damaged archive is refused, nothing written."""
    started = time.perf_counter()
    db.session.remove()
    db.engine.dispose()
    try:
        manifest = backups.restore(file, current_app.config["SQLALCHEMY_DATABASE_URI"], current_app.instance_path,
                                   force=force)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    db.engine.dispose()
    if not os.environ.get("SECRET_KEY"):  # migrations that encrypt use the restored key, as the app will
        current_app.config["SECRET_KEY"] = config_secret_key(current_app.instance_path)
    click.echo(f"Restored {file} (Parity {manifest['parity_version']}, migration {manifest['migration_head']}); "
               "migrating forward.")
    flask_migrate.upgrade()
    for practice_id in db.session.scalars(select(Practice.id).order_by(Practice.id)).all():
        summaries.rebuild(db.session, practice_id)
        db.session.commit()
    click.echo(f"Report summaries rebuilt. Restore done in {time.perf_counter() - started:.1f} s.")
