"""Fixtures of the whole suite: the clock, the personas, the API's scene, and module-wide data.

Data builders (factories, `staff`, `build_scene`) and time helpers are in factories.py; test modules
import those, and receive the fixtures below by naming them as arguments.
"""

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import override_settings
from guardian.shortcuts import assign_perm
from time_machine import travel

from scheduling import roles
from scheduling.tests.factories import NOW, CustomerFactory, ResourceFactory, build_scene, client_for, staff

# --- The clock ------------------------------------------------------------------------------------
# No test reads the wall clock: every test starts at NOW (factories.py; the clock ticks from there),
# and a test about dates moves it with the `time_machine` fixture, usually to each of
# AWKWARD_INSTANTS. Django, the live server's thread and the ORM all read the moved clock.


@pytest.fixture(scope="session", autouse=True)
def _session_clock():
    """For what runs outside a test: module-scoped fixtures."""
    with travel(NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def _fixed_clock(_session_clock, time_machine):
    time_machine.move_to(NOW, tick=True)


# --- Speed ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _quick_settings():
    """Two settings that cost time in every test and matter to none.
    - Every test client builds its own middleware, and whitenoise (which, without a collectstatic,
      serves the apps' folders) would index all ~20,000 static files each time: 0.12 s a client.
      With autorefresh it looks a file up when one is asked for, the way DEBUG does.
    - PBKDF2's million rounds are the point in production and 0.3 s per user in a test (Django's
      advice for test runs); no test depends on the algorithm."""
    with override_settings(WHITENOISE_AUTOREFRESH=True, PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


# --- Database -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _role_groups(request):
    """The role groups come from a data migration; a transactional test's flush removes them, so
    a later test in the same worker would find none. Recreate them when missing."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    transactional = marker.kwargs.get("transaction") or (marker.args and marker.args[0])
    request.getfixturevalue("transactional_db" if transactional else "db")
    if not Group.objects.filter(name=roles.MANAGER).exists():
        roles.sync_roles()


@pytest.fixture(scope="module")
def module_db(django_db_setup, django_db_blocker):
    """A transaction around a whole module, rolled back at its end (Django's setUpTestData, for
    pytest): module-scoped fixtures that depend on this write their scene once (inside
    `django_db_blocker.unblock()`), and each test, which
    still asks for `db`, runs in a savepoint inside it, so what one test writes is undone before the
    next. Not for transactional tests (their flush would empty the module's data)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        if not Group.objects.filter(name=roles.MANAGER).exists():
            roles.sync_roles()
    yield
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture
def resource(db):
    return ResourceFactory()


@pytest.fixture
def customer(db):
    return CustomerFactory()


# --- Personas (docs/spec.md §7): staff users, so that they serve the admin and the API alike -----


@pytest.fixture
def manager(db):
    return staff(roles.MANAGER, username="manager")


@pytest.fixture
def booker(db):
    return staff(roles.BOOKER, username="booker")


@pytest.fixture
def viewer(db):
    return staff(roles.VIEWER, username="viewer")


@pytest.fixture
def superuser(db):
    return staff(username="root", is_superuser=True)


@pytest.fixture
def granted(db):
    """No group; may book resource "A" only (a `book_resource` grant)."""
    user = staff(username="granted")
    assign_perm("book_resource", user, ResourceFactory(name="A"))
    return user


@pytest.fixture
def owner(db):
    """No group; owns resource "Owned", so manages its schedule."""
    user = staff(username="owner")
    ResourceFactory(name="Owned", owner=user)
    return user


@pytest.fixture
def outsider(db):
    """Staff, but no group and no grant."""
    return staff(username="outsider")


# --- The API's scene (factories.build_scene) ------------------------------------------------------


@pytest.fixture
def scene(db):
    return build_scene()


@pytest.fixture
def a_booker(scene):
    """In no group, with the booking grant on the scene's resource A only."""
    user = staff(username="a-booker")
    assign_perm("book_resource", user, scene.a)
    return user


@pytest.fixture
def api(manager):
    """The manager's client: most behaviour tests are about the rules, not about who asks."""
    return client_for(manager)
