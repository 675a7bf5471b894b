"""Who sees which admin page (docs/spec.md §8.7), generated from one table of rights per role.

The table restates docs/spec.md §7 for the admin; every page answers from scheduling.permissions.
"""

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm

from scheduling import roles
from scheduling.services.resources import resource_owner_changed
from scheduling.models import Availability, Booking, Customer, Resource, ResourceType, ScheduleException
from scheduling.tests.factories import (
    AvailabilityFactory,
    BookingFactory,
    ResourceFactory,
    ScheduleExceptionFactory,
    UserFactory,
    staff,
)

pytestmark = pytest.mark.django_db
MODELS = (ResourceType, Resource, Customer, Booking, Availability, ScheduleException)
EVERYTHING = {model: "vacd" for model in MODELS}

# role → model → rights on the shared resource's rows: v(iew), a(dd), c(hange), d(elete).
RIGHTS: dict[str, dict[type, str]] = {
    "anonymous": {},
    "outsider": {},
    "viewer": {model: "v" for model in MODELS},
    "booker": {**{model: "v" for model in MODELS}, Booking: "vac", Customer: "vac"},
    "manager": EVERYTHING,
    "superuser": EVERYTHING,
    # No group, a book_resource grant on the shared resource.
    "granted": {ResourceType: "v", Resource: "v", Customer: "va", Booking: "vac", Availability: "v", ScheduleException: "v"},
    # No group, owner of the shared resource (so manage_schedule on it).
    "owner": {ResourceType: "v", Resource: "v", Booking: "v", Availability: "vacd", ScheduleException: "vacd"},
}


@pytest.fixture(scope="module")
def cast(module_db, django_db_blocker):
    """One row of each model around the shared resource, and one user per role: written once for
    the module; each case runs in a savepoint rolled back after it."""
    with django_db_blocker.unblock():
        shared = ResourceFactory(name="Shared")
        booking = BookingFactory(resource=shared)
        rows = {
            ResourceType: shared.type,
            Resource: shared,
            Customer: booking.customer,
            Booking: booking,
            Availability: AvailabilityFactory(resource=shared),
            ScheduleException: ScheduleExceptionFactory(resource=shared),
        }
        groups = {"viewer": roles.VIEWER, "booker": roles.BOOKER, "manager": roles.MANAGER}
        users = {role: staff(group) for role, group in groups.items()}
        users.update(anonymous=None, outsider=staff(), granted=staff(), owner=staff(), superuser=staff(is_superuser=True))
        assign_perm("book_resource", users["granted"], shared)
        shared.owner = users["owner"]
        shared.save()
        resource_owner_changed(resource=shared, previous_owner_id=None)
    return rows, users


@pytest.fixture
def shared_rows(db, cast):
    return cast[0]


@pytest.fixture
def login(client, cast):
    """login(role) signs the test client in as that role's user (the anonymous stay signed out)."""

    def sign_in(role):
        if cast[1][role]:
            client.force_login(cast[1][role])

    return sign_in


def admin_url(model, page, obj=None) -> str:
    name = f"admin:scheduling_{model._meta.model_name}_{page}"
    return reverse(name, args=[obj.pk] if page in ("change", "delete") else [])


def expected(role: str, right: str, granted: bool) -> int:
    if role == "anonymous":
        return 302  # to the login page
    return 200 if granted and right else 403


CASES = [
    (role, model, page, letter)
    for role in RIGHTS
    for model in MODELS
    for page, letter in (("changelist", "v"), ("add", "a"), ("change", "v"), ("delete", "d"))
]


@pytest.mark.parametrize(("role", "model", "page", "letter"), CASES, ids=[f"{r}-{m.__name__}-{p}" for r, m, p, _ in CASES])
def test_model_pages_follow_the_rights_table(client, shared_rows, login, role, model, page, letter):
    login(role)
    response = client.get(admin_url(model, page, shared_rows[model]))
    assert response.status_code == expected(role, letter, letter in RIGHTS[role].get(model, ""))
    assert Booking.objects.count() == 1 and Resource.objects.count() == 1  # nothing was created or deleted


EXTRA_PAGES = [
    ("admin:scheduling_resource_calendar", Resource),
    ("admin:scheduling_booking_board", Booking),
]


@pytest.mark.parametrize("role", list(RIGHTS))
@pytest.mark.parametrize(("name", "model"), EXTRA_PAGES)
def test_calendar_and_board_follow_the_rights_table(client, shared_rows, login, role, name, model):
    login(role)
    response = client.get(reverse(name))
    assert response.status_code == expected(role, "v", "v" in RIGHTS[role].get(model, ""))


@pytest.mark.parametrize("role", list(RIGHTS))
def test_moving_a_card_follows_the_rights_table(client, shared_rows, login, role):
    login(role)
    booking = shared_rows[Booking]
    response = client.post(reverse("admin:scheduling_booking_transition", args=[booking.pk]), {"to_status": "confirmed"})
    rights = RIGHTS[role].get(Booking, "")
    want = 302 if role == "anonymous" else 200 if "c" in rights else 403 if "v" in rights else 404
    assert response.status_code == want
    assert Booking.objects.get(pk=booking.pk).status == ("confirmed" if want == 200 else "pending")


def test_an_invisible_object_answers_like_a_missing_one(client):
    """A grant holder on A probing B's booking gets what a non-existent id gets."""
    user = staff()
    assign_perm("book_resource", user, ResourceFactory(name="A"))
    hidden = BookingFactory(resource=ResourceFactory(name="B"))
    client.force_login(user)
    invisible = client.get(admin_url(Booking, "change", hidden))
    missing = client.get(reverse("admin:scheduling_booking_change", args=[hidden.pk + 1000]))
    assert invisible.status_code == missing.status_code == 302
    assert invisible["Location"] == missing["Location"] == reverse("admin:index")


def test_the_admin_is_for_staff_only(client):
    user = UserFactory(is_superuser=True, is_staff=False)
    client.force_login(user)
    assert client.get(reverse("admin:scheduling_resource_calendar")).status_code == 302


def test_a_viewer_gets_no_add_buttons(client):
    client.force_login(staff(roles.VIEWER))
    ResourceFactory()
    for model in MODELS:
        response = client.get(admin_url(model, "changelist"))
        assert response.status_code == 200 and not response.context["has_add_permission"]
        assert b'class="addlink"' not in response.content
