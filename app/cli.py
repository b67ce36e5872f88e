"""Operator commands: `flask users …`, `flask practices …`, `flask seed-demo`."""
import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from app import accounts
from app.accounts import MemberDetails, RuleViolation
from app.extensions import db
from app.models import Member, Practice, Role

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
    from app import throttle

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


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only when the database has no practice yet (first start).")
@with_appcontext
def seed_demo(if_empty: bool) -> None:
    """Create (or complete) the demo practice; running it again changes nothing."""
    from app import seed

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
    from app.billing import catalog

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


def init_app(app: Flask) -> None:
    app.cli.add_command(codes_cli)
    app.cli.add_command(users)
    app.cli.add_command(practices)
    app.cli.add_command(seed_demo)
