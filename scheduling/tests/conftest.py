import pytest
from django.contrib.auth.models import Group

from scheduling.roles import MANAGER, sync_roles
from scheduling.tests.factories import CustomerFactory, ResourceFactory


@pytest.fixture(autouse=True)
def _role_groups(request):
    """The role groups come from a data migration; a transactional test's flush removes them, so
    a later test in the same worker would find none. Recreate them when missing."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    transactional = marker.kwargs.get("transaction") or (marker.args and marker.args[0])
    request.getfixturevalue("transactional_db" if transactional else "db")
    if not Group.objects.filter(name=MANAGER).exists():
        sync_roles()


@pytest.fixture
def resource(db):
    return ResourceFactory()


@pytest.fixture
def customer(db):
    return CustomerFactory()
