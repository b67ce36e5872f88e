"""`flask codes import-csv`: all or nothing, with line numbers."""
from app.extensions import db
from app.models import ServiceCode

HEADER = "code,type,name,description,price,units,minutes_per_unit,repeatable,enabled\n"


def catalog(app):
    with app.app_context():
        return {s.code: (s.price_cents, s.bill_in_units, s.minutes_per_unit, s.repeatable, s.enabled)
                for s in db.session.scalars(db.select(ServiceCode))}


def test_import_csv_creates_every_row(app, make, tmp_path):
    practice = make.practice()
    path = tmp_path / "services.csv"
    path.write_text(HEADER + "90791,CPT,Intake,Our words,200.00,no,,no,yes\n"
                             "90785,CPT,Interactive complexity,,25,no,,no,yes\n"
                             "H2019,CPT,Behavioral services,,22.50,yes,15,yes,yes\n"
                             "NOSHOW,Custom,No-show fee,,75,no,,no,no\n")
    result = app.test_cli_runner().invoke(args=["codes", "import-csv", str(path), "--practice", str(practice.id)])
    assert result.exit_code == 0, result.output
    assert "Imported 4 services" in result.output
    assert catalog(app) == {"90791": (20000, False, None, False, True), "90785": (2500, False, None, False, True),
                            "H2019": (2250, True, 15, True, True), "NOSHOW": (7500, False, None, False, False)}


def test_import_csv_reports_every_bad_row_by_line_and_saves_nothing(app, make, tmp_path):
    practice = make.practice()
    path = tmp_path / "services.csv"
    path.write_text(HEADER + "90834,CPT,Fine,,150,no,,no,yes\n"
                             "9083,CPT,Bad format,,150,no,,no,yes\n"
                             "90837,CPT,Bad price,,abc,no,,no,yes\n"
                             "90840,CPT,Orphan add-on,,25,no,,no,yes\n"
                             "90834,CPT,Twice,,150,no,,no,yes\n"
                             "X1,Other,Bad type,,1,no,,no,yes\n")
    result = app.test_cli_runner().invoke(args=["codes", "import-csv", str(path), "--practice", str(practice.id)])
    assert result.exit_code != 0
    output = result.output
    for line, words in [(3, "five characters"), (4, "dollars and cents"), (5, "add-on"), (6, "appears twice"),
                        (7, "type must be CPT or Custom")]:
        assert f"line {line}: " in output and words in output, (line, output)
    assert "line 2:" not in output
    assert "nothing was imported" in output
    assert catalog(app) == {}


def test_import_csv_refuses_a_file_without_the_columns(app, make, tmp_path):
    practice = make.practice()
    path = tmp_path / "services.csv"
    path.write_text("code,name\n90834,x\n")
    result = app.test_cli_runner().invoke(args=["codes", "import-csv", str(path), "--practice", str(practice.id)])
    assert result.exit_code != 0 and "missing columns" in result.output
    assert catalog(app) == {}
