"""Every route, found from app.url_map: anonymous → sign-in, wrong role → 403, another practice's
record → 404. A new route is covered by adding it; a new kind of record in a URL needs a factory."""
import pytest

from app.authz import ALL_ROLES, SCOPED_ARGS
from app.models import Role

PUBLIC_ENDPOINTS = {"auth.login", "auth.second_step", "auth.password_reset", "auth.password_reset_link", "main.healthz",
                    "static"}
#: The one exception to sign-in and roles: /metrics, for Prometheus, guarded by the METRICS_TOKEN bearer token
#: (tests/web/test_metrics.py checks the token; unset, it is a 404 for everyone).
TOKEN_ENDPOINTS = {"main.metrics_page": "METRICS_TOKEN"}


def routes(app):
    """(endpoint, rule, method) for every route and method, except HEAD/OPTIONS."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, rule, method))
    return found


def url_for_rule(rule, records: dict) -> str:
    values = {}
    for argument in rule.arguments:
        converter = rule._converters.get(argument)
        if argument in SCOPED_ARGS:
            values[argument] = records[argument].id
        elif argument == "token":  # a password-reset link's secret: any string reaches the view
            values[argument] = "no-such-token"
        elif getattr(converter, "items", None):  # <any(a, b):name>: the first choice stands for all
            values[argument] = sorted(converter.items)[0]
        else:
            pytest.fail(f"{rule.rule}: no test value for URL argument {argument!r}")
    return rule.build(values, append_unknown=False)[1]


def records_in(make, practice) -> dict:
    return {argument: make.for_model(model, practice) for argument, model in SCOPED_ARGS.items()}


def request(client, method: str, url: str):
    return client.open(url, method=method, data={})


def test_only_sign_in_password_reset_healthz_and_static_are_public(app):
    public = {endpoint for endpoint, view in app.view_functions.items() if getattr(view, "public", False)}
    assert public | {"static"} == PUBLIC_ENDPOINTS


def test_every_view_declares_its_roles(app):
    undeclared = [endpoint for endpoint, view in app.view_functions.items()
                  if endpoint not in PUBLIC_ENDPOINTS | set(TOKEN_ENDPOINTS)
                  and not getattr(view, "allowed_roles", None)]
    assert undeclared == []


def test_only_metrics_is_guarded_by_a_bearer_token_and_is_404_for_members_when_unset(app, client, make, sign_in):
    guarded = {endpoint: view.bearer_token_setting for endpoint, view in app.view_functions.items()
               if getattr(view, "bearer_token_setting", None)}
    assert guarded == TOKEN_ENDPOINTS
    assert app.config["METRICS_TOKEN"] is None
    for endpoint, rule, method in routes(app):
        if endpoint in TOKEN_ENDPOINTS:
            assert request(client, method, url_for_rule(rule, {})).status_code == 404
            for role in Role:
                sign_in(make.member(role=role))
                assert request(client, method, url_for_rule(rule, {})).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(app, client, make):
    records = records_in(make, make.practice())
    checked = 0
    for endpoint, rule, method in routes(app):
        if endpoint in PUBLIC_ENDPOINTS or endpoint in TOKEN_ENDPOINTS:
            continue
        response = request(client, method, url_for_rule(rule, records))
        assert response.status_code == 302, f"{method} {rule.rule} answered {response.status_code}"
        assert response.headers["Location"].startswith("/login"), f"{method} {rule.rule}"
        checked += 1
    assert checked >= 10


def test_wrong_role_gets_403(app, client, make, sign_in):
    practice = make.practice()
    records = records_in(make, practice)
    members = {role: make.member(practice, role) for role in Role}
    checked = 0
    for endpoint, rule, method in routes(app):
        if endpoint in PUBLIC_ENDPOINTS or endpoint in TOKEN_ENDPOINTS:
            continue
        allowed = app.view_functions[endpoint].allowed_roles
        for role in ALL_ROLES - allowed:
            sign_in(members[role])
            response = request(client, method, url_for_rule(rule, records))
            assert response.status_code == 403, f"{role} {method} {rule.rule} answered {response.status_code}"
            checked += 1
    assert checked > 0


def test_another_practices_records_are_404(app, client, make, sign_in):
    ours, theirs = make.practice(), make.practice()
    their_records = records_in(make, theirs)
    members = {role: make.member(ours, role) for role in Role}
    checked = 0
    for endpoint, rule, method in routes(app):
        if endpoint in PUBLIC_ENDPOINTS or endpoint in TOKEN_ENDPOINTS or not set(rule.arguments) & set(SCOPED_ARGS):
            continue
        for role in app.view_functions[endpoint].allowed_roles:
            sign_in(members[role])
            response = request(client, method, url_for_rule(rule, their_records))
            assert response.status_code == 404, f"{role} {method} {rule.rule} answered {response.status_code}"
            checked += 1
    assert checked > 0


def test_allowed_roles_can_open_every_page(app, client, make, sign_in):
    practice = make.practice()
    records = records_in(make, practice)
    members = {role: make.member(practice, role) for role in Role}
    for endpoint, rule, method in routes(app):
        if endpoint in PUBLIC_ENDPOINTS or endpoint in TOKEN_ENDPOINTS or method != "GET":
            continue
        for role in app.view_functions[endpoint].allowed_roles:
            sign_in(members[role])
            response = request(client, method, url_for_rule(rule, records))
            # 422: a GET that needs query parameters (e.g. /codes/validate) and was given none.
            # 404 for a clinician: the factory's records belong to other clinicians (tests/web/test_sessions.py
            # and test_clients.py check clinicians' own records).
            # 409: the factory's bill is Pended, and a superbill waits until a bill is Open.
            expected = {200, 303, 409, 422} | ({404} if role == Role.CLINICIAN else set())
            assert response.status_code in expected, f"{role} GET {rule.rule} answered {response.status_code}"
