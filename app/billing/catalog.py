"""The practice's service catalog: adding, editing, importing, enabling and deleting services.

Every check a person can fail is collected as {field: message} before anything is written, so a
form shows all its problems at once and a failed import saves nothing.
"""
import csv
import io
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import audit
from app.billing import codes
from app.billing.money import MoneyError, parse_cents
from app.extensions import db
from app.models import CodeType, Practice, ServiceCode
from app.models.practice import new_catalog_version

CSV_COLUMNS = ["code", "type", "name", "description", "price", "units", "minutes_per_unit", "repeatable", "enabled"]


class CatalogProblems(Exception):
    """What is wrong with a change, by field (or by CSV line); nothing was saved."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{key}: {message}" for key, message in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class ServiceDetails:
    code: str
    code_type: CodeType
    name: str
    price_cents: int
    description: str = ""
    bill_in_units: bool = False
    minutes_per_unit: int | None = None
    unit_rounding: str | None = None
    repeatable: bool = False
    enabled: bool = True
    requires_advance_payment: bool = False

    def normalized(self) -> "ServiceDetails":
        return replace(self, code=codes.normalize_code(self.code), name=self.name.strip(),
                       description=(self.description or "").strip(),
                       minutes_per_unit=self.minutes_per_unit if self.bill_in_units else None,
                       unit_rounding=self.unit_rounding if self.bill_in_units else None)


def catalog_codes(practice_id: int) -> set[str]:
    return set(db.session.scalars(select(ServiceCode.code).where(ServiceCode.practice_id == practice_id)))


def problems_with(details: ServiceDetails, existing_codes: set[str], *, editing: ServiceCode | None = None) -> dict:
    """Field → message for everything wrong with these details in a catalog holding existing_codes."""
    problems: dict[str, str] = {}
    code = details.code
    if not code:
        problems["code"] = "Enter a code."
    elif details.code_type == CodeType.CPT and not codes.is_valid_code_format(code):
        problems["code"] = ("A CPT or HCPCS code has five characters: four digits and a digit, F, T or U "
                            "(90834, 0362T), or a letter and four digits (H2019). Use type Custom for your own codes.")
    elif code in existing_codes and (editing is None or editing.code != code):
        problems["code"] = f"{code} is already in your catalog."
    elif details.code_type == CodeType.CPT and codes.is_addon(code):  # an add-on needs a parent to attach to
        if not set(codes.parents(code)) & existing_codes:
            problems["code"] = (f"{code} is an add-on code: add one of its primary codes first "
                                f"({', '.join(codes.parents(code)[:6])}{'…' if len(codes.parents(code)) > 6 else ''}).")
    if details.code_type == CodeType.CUSTOM and len(code) > 20:
        problems["code"] = "Keep custom codes to 20 characters."
    if not details.name:
        problems["name"] = "Enter a name."
    if details.price_cents < 0:
        problems["price"] = "The price cannot be negative."
    if details.bill_in_units and not details.minutes_per_unit:
        problems["minutes_per_unit"] = "Say how many minutes one unit stands for (15 for most unit codes)."
    return problems


def time_check(practice_id: int, code: str, minutes: int) -> codes.TimeCheck:
    """`codes.check_time` for this practice: its own rounding for unit codes; its custom codes are untimed."""
    code = codes.normalize_code(code)
    service = db.session.scalar(select(ServiceCode).where(ServiceCode.practice_id == practice_id,
                                                          ServiceCode.code == code))
    return codes.check_time(code, minutes, rounding=service.unit_rounding if service else None,
                            custom=service is not None and service.code_type == CodeType.CUSTOM)


def _bump(practice_id: int) -> None:
    """Tell every process that its code search index for this practice is stale."""
    db.session.execute(db.update(Practice).where(Practice.id == practice_id)
                       .values(catalog_version=new_catalog_version()))


def add_service(practice: Practice, details: ServiceDetails) -> ServiceCode:
    details = details.normalized()
    problems = problems_with(details, catalog_codes(practice.id))
    if problems:
        raise CatalogProblems(problems)
    service = ServiceCode(practice_id=practice.id, **_columns(details))
    db.session.add(service)
    db.session.flush()
    _bump(practice.id)
    audit.record("service.added", service, code=service.code, price_cents=service.price_cents)
    return service


def update_service(service: ServiceCode, details: ServiceDetails) -> dict:
    """Change a service; bills already issued keep the code, description and price they copied."""
    details = details.normalized()
    problems = problems_with(details, catalog_codes(service.practice_id), editing=service)
    if problems:
        raise CatalogProblems(problems)
    changed = {}
    for column, value in _columns(details).items():
        if getattr(service, column) != value:
            changed[column] = [getattr(service, column), value]
            setattr(service, column, value)
    if changed:
        _bump(service.practice_id)
        audit.record("service.updated", service, **changed)
    return changed


def set_enabled(service: ServiceCode, enabled: bool) -> None:
    if service.enabled != enabled:
        service.enabled = enabled
        _bump(service.practice_id)
        audit.record("service.enabled" if enabled else "service.disabled", service, code=service.code)


def delete_service(service: ServiceCode) -> None:
    """Delete a service never used on a session or bill. Those rows reference it with a restricting
    foreign key, so the database itself says when it is in use."""
    code, practice_id = service.code, service.practice_id
    try:
        with db.session.begin_nested():
            db.session.delete(service)
            db.session.flush()
    except IntegrityError:
        raise CatalogProblems({"service": f"{code} is used on sessions or bills, so it stays for the record: "
                                          "disable it instead."}) from None
    _bump(practice_id)
    audit.record("service.deleted", None, practice_id=practice_id, code=code)


def import_reference_codes(practice: Practice, choices: list[tuple[str, str]]) -> list[ServiceCode]:
    """Add reference codes with the prices typed beside them. An add-on needs its parent in the
    catalog or in the same import. All or nothing: any problem raises and nothing is added."""
    existing = catalog_codes(practice.id)
    chosen = {codes.normalize_code(code) for code, _ in choices}
    problems: dict[str, str] = {}
    to_add: list[ServiceDetails] = []
    for raw_code, price_text in choices:
        code = codes.normalize_code(raw_code)
        reference = codes.get(code)
        if reference is None:
            problems[code] = f"{code} is not in the code reference."
            continue
        if code in existing:
            problems[code] = f"{code} is already in your catalog."
            continue
        try:
            price = parse_cents(price_text)
        except MoneyError as error:
            problems[code] = f"{code}: {error}"
            continue
        if codes.is_addon(code) and not (set(codes.parents(code)) & (existing | chosen)):
            problems[code] = (f"{code} is an add-on: select its primary code too "
                              f"({' or '.join(codes.parents(code)[:6])}{'…' if len(codes.parents(code)) > 6 else ''}).")
            continue
        to_add.append(_details_from_reference(reference, price))
    if not choices:
        problems["codes"] = "Select at least one code to import."
    if problems:
        raise CatalogProblems(problems)
    # Parents first, so each add-on finds its parent already in the catalog.
    to_add.sort(key=lambda details: codes.is_addon(details.code))
    services = []
    for details in to_add:
        service = ServiceCode(practice_id=practice.id, **_columns(details))
        db.session.add(service)
        services.append(service)
    db.session.flush()
    _bump(practice.id)
    audit.record("service.imported", practice, codes=[service.code for service in services])
    return services


def _details_from_reference(reference, price_cents: int) -> ServiceDetails:
    unit_minutes = codes.unit_minutes(reference.code)
    return ServiceDetails(code=reference.code, code_type=CodeType.CPT, name=reference.name,
                          description=reference.description, price_cents=price_cents,
                          bill_in_units=unit_minutes is not None, minutes_per_unit=unit_minutes,
                          repeatable=codes.is_repeatable(reference.code))


def _columns(details: ServiceDetails) -> dict:
    return {"code": details.code, "code_type": str(details.code_type), "name": details.name,
            "description": details.description, "price_cents": details.price_cents,
            "bill_in_units": details.bill_in_units, "minutes_per_unit": details.minutes_per_unit,
            "unit_rounding": details.unit_rounding, "repeatable": details.repeatable, "enabled": details.enabled,
            "requires_advance_payment": details.requires_advance_payment}


_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n", ""}


def _flag(value: str, column: str) -> bool:
    value = (value or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{column} must be yes or no, not {value!r}")


def import_csv(practice: Practice, text: str) -> list[ServiceCode]:
    """Create services from CSV rows (CSV_COLUMNS). All or nothing: every bad row is reported with
    its line number and nothing is saved."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [column for column in CSV_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise CatalogProblems({"line 1": f"missing columns: {', '.join(missing)} (expected {','.join(CSV_COLUMNS)})"})
    existing = catalog_codes(practice.id)
    rows: list[tuple[int, ServiceDetails]] = []
    problems: dict[str, str] = {}
    for row in reader:
        line = f"line {reader.line_num}"
        try:
            type_text = (row["type"] or "").strip().lower()
            code_type = {"cpt": CodeType.CPT, "hcpcs": CodeType.CPT, "custom": CodeType.CUSTOM}.get(type_text)
            if code_type is None:
                raise ValueError(f"type must be CPT or Custom, not {row['type']!r}")
            units = _flag(row["units"], "units")
            minutes = (row["minutes_per_unit"] or "").strip()
            if minutes and not minutes.isdigit():
                raise ValueError(f"minutes_per_unit must be a whole number, not {minutes!r}")
            details = ServiceDetails(code=row["code"] or "", code_type=code_type, name=row["name"] or "",
                                     description=row["description"] or "", price_cents=parse_cents(row["price"]),
                                     bill_in_units=units, minutes_per_unit=int(minutes) if minutes else None,
                                     repeatable=_flag(row["repeatable"], "repeatable"),
                                     enabled=_flag(row["enabled"] or "yes", "enabled")).normalized()
        except (ValueError, MoneyError) as error:
            problems[line] = str(error)
            continue
        rows.append((reader.line_num, details))
    in_file = {details.code for _, details in rows}
    seen: set[str] = set()
    for line_num, details in rows:
        # An add-on may lean on a parent anywhere in the same file; duplicates within the file are errors.
        row_problems = problems_with(details, existing | (in_file - {details.code}) if details.code not in seen
                                     else existing | in_file)
        if details.code in seen:
            row_problems["code"] = f"{details.code} appears twice in the file."
        seen.add(details.code)
        if row_problems:
            problems[f"line {line_num}"] = " ".join(row_problems.values())
    if not rows and not problems:
        problems["line 2"] = "the file has no rows"
    if problems:
        raise CatalogProblems(problems)
    services = [ServiceCode(practice_id=practice.id, **_columns(details)) for _, details in rows]
    db.session.add_all(services)
    db.session.flush()
    _bump(practice.id)
    audit.record("service.imported", practice, codes=[service.code for service in services], source="csv")
    return services
