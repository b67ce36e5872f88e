"""Two admins demoting (or deactivating) each other at the same moment from separate connections, on
PostgreSQL and on a SQLite file: exactly one succeeds and the practice keeps an active admin."""
import pytest

from app.extensions import db
from app.models import Member, Role
from tests.conftest import _reset, make_app, signed_in
from tests.support.concurrency import run_together
from tests.support.factories import Factory

pytestmark = pytest.mark.slow


@pytest.fixture(params=["postgresql", "sqlite"])
def racing_app(request, redis_url, tmp_path):
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_server").create_database("parity_last_admin")
    else:
        url = "sqlite:///" + str(tmp_path / "race.sqlite3")
    app = make_app(url, redis_url, str(tmp_path / "instance"))
    with app.app_context():
        db.create_all()
    yield app
    _reset(app)


@pytest.mark.parametrize("attempt", range(5))
@pytest.mark.parametrize("change", [("role", {"role": "biller"}), ("deactivate", {})])
def test_two_admins_removing_each_other_at_once_leave_one_admin(racing_app, change, attempt):
    action, data = change
    make = Factory(racing_app)
    practice = make.practice()
    first, second = make.member(practice, Role.ADMIN), make.member(practice, Role.ADMIN)
    clients = [signed_in(racing_app, racing_app.test_client(), member) for member in (first, second)]
    targets = [second.id, first.id]  # each removes the other

    def remove_the_other(index):
        return clients[index].post(f"/settings/members/{targets[index]}/{action}", data=data).status_code

    statuses = run_together(racing_app, 2, remove_the_other)
    # The other is refused by the last-admin rule (422), or, when the first committed before its request
    # began, no longer signed in (302: deactivation ends sessions) or no longer an admin (403).
    assert sum(status in (200, 303) for status in statuses) == 1, statuses
    assert all(status in (200, 303, 302, 403, 422) for status in statuses), statuses
    with racing_app.app_context():
        admins = db.session.scalars(db.select(Member).where(Member.practice_id == practice.id,
                                                            Member.role == Role.ADMIN,
                                                            Member.active.is_(True))).all()
        assert len(admins) == 1
