"""The example systemd units, gunicorn settings and nginx site in deploy/ name commands and files that exist:
each ExecStart's program (the unit's /opt/parity is this checkout, its .venv this interpreter's), gunicorn's
config file and app, worker.py, and the flask command with its arguments as Parity's CLI defines them."""
import configparser
import re
import shlex
import sys
from pathlib import Path

import click
import pytest

from app import create_app

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
INSTALLED = "/opt/parity"


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read(path)
    return parser


def _local(word: str) -> str:
    if word.startswith(f"{INSTALLED}/.venv/bin/"):
        return str(Path(sys.executable).parent / word.rsplit("/", 1)[1])
    return word.replace(INSTALLED, str(ROOT))


def test_there_are_units_for_web_worker_and_backup():
    assert {path.name for path in UNITS} == {"parity-web.service", "parity-worker@.service", "parity-backup.service"}
    timer = _unit(ROOT / "deploy" / "systemd" / "parity-backup.timer")
    assert (ROOT / "deploy" / "systemd" / timer["Timer"]["Unit"]).exists()


def test_background_work_runs_below_the_web_servers():
    """Workers and the backup are niced: on a shared machine a claim or a backup waits for a CPU, a page not."""
    nice = {path.name: int(_unit(path)["Service"].get("Nice", "0")) for path in UNITS}
    assert nice["parity-web.service"] == 0
    assert nice["parity-worker@.service"] > 0 and nice["parity-backup.service"] > 0


@pytest.mark.parametrize("unit", UNITS, ids=lambda path: path.name)
def test_every_unit_runs_a_command_that_exists(unit, tmp_path, monkeypatch):
    service = _unit(unit)["Service"]
    assert service["WorkingDirectory"] == INSTALLED
    words = [_local(word) for word in shlex.split(service["ExecStart"])]
    program = Path(words[0])
    assert program.is_file(), f"{unit.name}: {words[0]} does not exist"
    arguments = words[1:]
    if program.name.startswith("python") and arguments[:2] == ["-m", "gunicorn"]:
        config = arguments[arguments.index("-c") + 1]
        assert (ROOT / config).is_file()
        assert arguments[-1] == "app:create_app()"
    elif program.name.startswith("python"):
        assert (ROOT / arguments[0]).is_file()
    else:
        assert program.name == "flask" and arguments[:2] == ["--app", "app"]
        monkeypatch.setenv("PARITY_INSTANCE_PATH", str(tmp_path))
        app = create_app({"TESTING": True, "SECRET_KEY": "x"})
        command, context = app.cli, click.Context(app.cli)
        rest = arguments[2:]
        while isinstance(command, click.Group):
            command = command.get_command(context, rest.pop(0))
            assert command is not None, f"{unit.name}: no such flask command"
        options = {option for parameter in command.params for option in getattr(parameter, "opts", [])}
        assert set(rest) <= options, f"{unit.name}: {rest} not all options of the command"


def test_the_gunicorn_settings_load_and_drop_the_access_log():
    settings = {}
    exec(compile((ROOT / "deploy" / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), settings)
    assert settings["accesslog"] is None
    assert settings["logconfig_dict"]["loggers"]["gunicorn.access"]["propagate"] is False
    assert callable(settings["child_exit"]) and callable(settings["on_starting"]) and callable(settings["when_ready"])
    # one request per worker at a time unless WEB_THREADS says more (the lowest p99 in bench/bench_load.py); one
    # request per connection, so each request goes to a worker free to take it, not to the one that took the
    # connection
    assert settings["worker_class"] == "gthread" and settings["threads"] == 1 and settings["keepalive"] == 0


def test_nginx_opens_a_connection_to_gunicorn_per_request():
    site = (ROOT / "deploy" / "nginx" / "parity.conf").read_text()
    upstream = site[site.index("upstream parity {"):site.index("}", site.index("upstream parity {"))]
    assert not re.search(r"^\s*keepalive\s", upstream, re.MULTILINE)


def test_the_nginx_site_replaces_forwarded_for_and_hides_metrics():
    site = (ROOT / "deploy" / "nginx" / "parity.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site
    assert "location = /metrics" in site and "ssl_certificate" in site
