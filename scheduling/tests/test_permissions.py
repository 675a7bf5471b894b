"""The permission layer (docs/spec.md §7): roles, per-resource grants, owners, visibility."""

from io import StringIO

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.management import call_command
from guardian.shortcuts import assign_perm

from scheduling.services import resources as resource_service
from scheduling import roles
from scheduling.models import (
    Availability,
    Booking,
    Customer,
    Resource,
    ResourceType,
    ScheduleException,
)
from scheduling.permissions import can, can_override_availability, restrict
from scheduling.tests.factories import (
    AvailabilityFactory,
    BookingFactory,
    CustomerFactory,
    ResourceFactory,
    ResourceTypeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def member(role):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def two_resources():
    return ResourceFactory(name="A"), ResourceFactory(name="B")


def test_roles_exist_after_migrate_and_sync_is_idempotent():
    group = Group.objects.get(name=roles.BOOKER)
    group.permissions.add(Permission.objects.get(codename="delete_resource"))
    call_command("sync_roles", stdout=StringIO())
    call_command("sync_roles", stdout=StringIO())
    assert not group.permissions.filter(codename="delete_resource").exists()
    assert Group.objects.filter(name__in=roles.ROLE_PERMISSIONS).count() == 3


@pytest.mark.parametrize(
    ("role", "action", "model", "allowed"),
    [
        (roles.MANAGER, "delete", Resource, True),
        (roles.MANAGER, "change", Availability, True),
        (roles.BOOKER, "add", Booking, True),
        (roles.BOOKER, "change", Booking, True),
        (roles.BOOKER, "delete", Booking, False),
        (roles.BOOKER, "add", Customer, True),
        (roles.BOOKER, "change", Availability, False),
        (roles.BOOKER, "view", ScheduleException, True),
        (roles.VIEWER, "view", Booking, True),
        (roles.VIEWER, "add", Booking, False),
        (roles.VIEWER, "change", ResourceType, False),
    ],
)
def test_role_permissions(role, action, model, allowed):
    assert can(member(role), action, model=model) is allowed


def test_only_managers_override_availability():
    assert can_override_availability(member(roles.MANAGER))
    assert not can_override_availability(member(roles.BOOKER))
    assert not can_override_availability(AnonymousUser())


def test_anonymous_and_inactive_users_may_do_nothing(two_resources):
    inactive = member(roles.MANAGER)
    inactive.is_active = False
    for user in (AnonymousUser(), inactive):
        assert not can(user, "view", model=Booking)
        assert not restrict(user, Resource.objects.all()).exists()


def test_superusers_may_do_everything(two_resources):
    admin = UserFactory(is_superuser=True)
    assert can(admin, "delete", two_resources[0])
    assert restrict(admin, Resource.objects.all()).count() == 2


def test_a_booking_grant_on_a_covers_a_only(two_resources):
    a, b = two_resources
    user = UserFactory()
    assign_perm("book_resource", user, a)
    BookingFactory(resource=a)
    hidden = BookingFactory(resource=b)
    assert can(user, "add", model=Booking, resource=a)
    assert not can(user, "add", model=Booking, resource=b)
    assert list(restrict(user, Resource.objects.all())) == [a]
    assert hidden not in restrict(user, Booking.objects.all())
    assert restrict(user, Booking.objects.all()).count() == 1
    assert not can(user, "delete", Booking.objects.get(resource=a))
    # Booking needs a customer: grant holders register customers and see those booked on A (only:
    # test_customer_visibility.py), and see the type of A.
    stranger = CustomerFactory()
    assert can(user, "add", model=Customer)
    assert list(restrict(user, Customer.objects.all())) == [Booking.objects.get(resource=a).customer]
    assert not can(user, "view", stranger)
    assert list(restrict(user, ResourceType.objects.all())) == [a.type]
    assert can(user, "view", a.type) and not can(user, "view", b.type)


def test_a_group_grant_covers_its_members(two_resources):
    a, _ = two_resources
    desk = Group.objects.create(name="front desk Warsaw")
    assign_perm("book_resource", desk, a)
    user = UserFactory()
    user.groups.add(desk)
    assert can(user, "add", model=Booking, resource=a)


def set_owner(resource, user):
    """As the API and the admin change an owner: save, then tell the service who the owner was."""
    previous_owner_id = resource.owner_id
    resource.owner = user
    resource.save()
    resource_service.resource_owner_changed(resource=resource, previous_owner_id=previous_owner_id)


def test_a_resource_created_with_an_owner_gives_them_the_schedule_grant():
    owner = UserFactory()
    resource = ResourceFactory(owner=owner)
    assert can(type(owner).objects.get(pk=owner.pk), "add", model=Availability, resource=resource)


def test_an_owner_manages_the_schedule_of_their_own_resource_only(two_resources):
    a, b = two_resources
    owner = UserFactory()
    set_owner(a, owner)
    mine, theirs = AvailabilityFactory(resource=a), AvailabilityFactory(resource=b)
    assert can(owner, "change", mine) and can(owner, "delete", mine)
    assert can(owner, "add", model=Availability, resource=a)
    assert not can(owner, "change", theirs) and not can(owner, "add", model=Availability, resource=b)
    assert list(restrict(owner, Availability.objects.all())) == [mine]
    assert not can(owner, "add", model=Booking, resource=a)


def test_the_schedule_grant_moves_with_ownership(two_resources):
    a, _ = two_resources
    first, second = UserFactory(), UserFactory()
    set_owner(a, first)
    set_owner(a, second)
    row = AvailabilityFactory(resource=a)
    first = type(first).objects.get(pk=first.pk)  # fresh permission caches
    assert not can(first, "change", row)
    assert can(type(second).objects.get(pk=second.pk), "change", row)
    set_owner(a, None)
    assert not can(type(second).objects.get(pk=second.pk), "change", row)


def test_users_in_no_group_without_grants_see_nothing(two_resources):
    user = UserFactory()
    ResourceTypeFactory()
    for model in (Resource, ResourceType, Booking, Customer, Availability, ScheduleException):
        assert not restrict(user, model.objects.all()).exists()
        assert not can(user, "view", model=model)


def test_grant_command_gives_and_takes_back_roles_and_resource_rights(two_resources):
    from django.core.management.base import CommandError

    a, b = two_resources
    UserFactory(username="bob")
    Group.objects.create(name="desk")
    call_command("grant", "bob", "--role", "booker", stdout=StringIO())
    call_command("grant", "bob", "--resource", str(a.pk), "--schedule", stdout=StringIO())
    call_command("grant", "desk", "--group", "--resource", str(b.pk), "--book", stdout=StringIO())
    bob = type(UserFactory()).objects.get(username="bob")
    assert bob.groups.filter(name=roles.BOOKER).exists()
    assert can(bob, "change", AvailabilityFactory(resource=a))
    call_command("grant", "bob", "--resource", str(a.pk), "--schedule", "--revoke", stdout=StringIO())
    call_command("grant", "bob", "--role", "booker", "--revoke", stdout=StringIO())
    bob = type(bob).objects.get(username="bob")
    assert not can(bob, "change", AvailabilityFactory(resource=a))
    assert not bob.groups.exists()
    for bad in (["nobody", "--role", "viewer"], ["bob"], ["bob", "--resource", "999", "--book"], ["bob", "--resource", str(a.pk)], ["desk", "--group", "--role", "viewer"]):
        with pytest.raises(CommandError):
            call_command("grant", *bad, stdout=StringIO())


@pytest.mark.parametrize(("role", "resend"), [(roles.MANAGER, True), (roles.BOOKER, True), (roles.VIEWER, False)])
def test_every_role_reads_the_outbox_and_managers_and_bookers_resend(role, resend):
    user = member(role)
    assert user.has_perm("scheduling.view_notification")
    assert user.has_perm("scheduling.change_notification") is resend


def test_deleting_a_resource_drops_its_grants(two_resources):
    from guardian.models import UserObjectPermission

    a, _ = two_resources
    user = UserFactory()
    assign_perm("book_resource", user, a)
    a.delete()
    assert not UserObjectPermission.objects.filter(object_pk=str(a.pk) if a.pk else "x").exists()
    assert not UserObjectPermission.objects.filter(user=user).exists()


def test_permitted_resources_is_the_bulk_form_of_can(two_resources):
    from scheduling.permissions import permitted_resources

    a, b = two_resources
    user = UserFactory()
    assign_perm("book_resource", user, a)
    assert list(permitted_resources(user, "add", Booking)) == [a]
    assert not permitted_resources(user, "delete", Booking).exists()
    assert not permitted_resources(AnonymousUser(), "view", Booking).exists()
    assert permitted_resources(member(roles.MANAGER), "add", Availability).count() == 2


def test_reports_need_model_wide_view_rights_not_grants(two_resources):
    from scheduling.permissions import can_view_reports

    granted = UserFactory()
    assign_perm("book_resource", granted, two_resources[0])
    assert can_view_reports(member(roles.VIEWER)) and can_view_reports(member(roles.MANAGER))
    assert not can_view_reports(granted)
    assert not can_view_reports(AnonymousUser())
