"""Personas and helpers for the admin tests: staff users in each role, and holders of object grants."""

import datetime as dt

import factory
import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

from scheduling import roles
from scheduling.tests.factories import ResourceFactory, UserFactory

UTC = dt.timezone.utc


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def staff(role: str | None = None, **fields):
    """An admin user (staff) in `role`'s group, or in no group."""
    # An unusable password: force_login needs none, and hashing one costs a third of a second.
    user = UserFactory(is_staff=True, password=factory.Transformer.Force("!"), **fields)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


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


def split_times(start: dt.datetime, end: dt.datetime) -> dict:
    """The admin's split date and time widgets for start_at and end_at, in the viewer's zone."""
    from django.utils import timezone

    fields = {}
    for name, value in (("start_at", start), ("end_at", end)):
        local = timezone.localtime(value)
        fields.update({f"{name}_0": f"{local:%Y-%m-%d}", f"{name}_1": f"{local:%H:%M}"})
    return fields
