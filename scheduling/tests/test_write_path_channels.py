"""One write path (docs/spec.md §3): every channel gets the booking service's decision, for every role.

Each booking write — create, create with the override, move, re-assign, move a manager's override
into leave, each transition — is tried as each role through the API, the admin form and (for the
transitions) the board, each on a fresh scene rolled back afterwards. Every channel must reach the
same decision, leave the same rows behind, and match the rights table below.
"""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django.urls import reverse
from guardian.shortcuts import assign_perm

from scheduling import roles
from scheduling.models import Booking
from scheduling.tests.factories import (
    AvailabilityFactory,
    BookingFactory,
    CustomerFactory,
    ResourceFactory,
    ResourceTypeFactory,
    ScheduleExceptionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc
API = "/api/scheduling/booking"
ROLES = ("manager", "booker", "viewer", "granted", "outsider")


def at(hour: int) -> dt.datetime:
    return dt.datetime(2026, 3, 2, hour, tzinfo=UTC)  # a Monday


class Scene:
    """Resources A and B (Mon 09–17), leave on B 12–14; on A: P pending 10–11, Q confirmed 14–15,
    and O pending 18–19, placed outside working hours by a manager's override."""

    def __init__(self, role: str):
        kind = ResourceTypeFactory(name="Room")
        self.a, self.b = ResourceFactory(name="A", type=kind), ResourceFactory(name="B", type=kind)
        for resource in (self.a, self.b):
            AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(9), end_time=dt.time(17))
        ScheduleExceptionFactory(resource=self.b, start_at=at(12), end_at=at(14), reason="Leave")
        self.customer = CustomerFactory(name="Ola")
        self.p = BookingFactory(resource=self.a, customer=self.customer, start_at=at(10), end_at=at(11), status="pending")
        self.q = BookingFactory(resource=self.a, customer=self.customer, start_at=at(14), end_at=at(15), status="confirmed")
        self.o = BookingFactory(resource=self.a, customer=self.customer, start_at=at(18), end_at=at(19), override_availability=True)
        self.user = self._user(role)

    def _user(self, role: str):
        user = UserFactory(username=role, is_staff=True)
        group = {"manager": roles.MANAGER, "booker": roles.BOOKER, "viewer": roles.VIEWER}.get(role)
        if group:
            user.groups.add(Group.objects.get(name=group))
        if role == "granted":
            assign_perm("book_resource", user, self.a)
        return user


# What each write asks for: a new booking (`new`), or `booking` (an attribute of Scene) with
# `changes` and/or a transition `to`.
WRITES = {
    "create": {"new": {"resource": "a", "start": 15, "end": 16}},
    "create_with_override": {"new": {"resource": "a", "start": 19, "end": 20, "override": True}},
    "move": {"booking": "p", "changes": {"start": 11, "end": 12}},
    "reassign": {"booking": "p", "changes": {"resource": "b"}},
    "move_override_into_leave": {"booking": "o", "changes": {"resource": "b", "start": 12, "end": 13}},
    "confirm": {"booking": "p", "to": "confirmed"},
    "cancel": {"booking": "p", "to": "cancelled"},
    "complete": {"booking": "q", "to": "completed"},
    "no_show": {"booking": "q", "to": "no_show"},
}
# Who may: managers everything; bookers all but the override; a holder of a booking grant on A all
# that stays on A without the override; viewers and outsiders nothing.
ALLOWED = {
    "manager": set(WRITES),
    "booker": set(WRITES) - {"create_with_override", "move_override_into_leave"},
    "granted": set(WRITES) - {"create_with_override", "move_override_into_leave", "reassign"},
    "viewer": set(),
    "outsider": set(),
}
ACTIONS = {"confirmed": "confirm", "cancelled": "cancel", "completed": "complete", "no_show": "no_show"}


def target(scene: Scene, write: dict) -> dict:
    """The booking's fields after the write, as plain values."""
    if "new" in write:
        new = write["new"]
        return {
            "resource": getattr(scene, new["resource"]),
            "start_at": at(new["start"]),
            "end_at": at(new["end"]),
            "status": "pending",
            "override_availability": new.get("override", False),
        }
    booking = getattr(scene, write["booking"])
    changes = write.get("changes", {})
    return {
        "resource": getattr(scene, changes.get("resource", ""), booking.resource),
        "start_at": at(changes["start"]) if "start" in changes else booking.start_at,
        "end_at": at(changes["end"]) if "end" in changes else booking.end_at,
        "status": write.get("to", booking.status),
        "override_availability": booking.override_availability,
    }


# --- The channels: each returns whether the write was accepted --------------------------------------


def through_api(client: Client, scene: Scene, write: dict) -> bool:
    wanted = target(scene, write)
    if "new" in write:
        body = {
            "resource": wanted["resource"].pk,
            "customer": scene.customer.pk,
            "start_at": wanted["start_at"].isoformat(),
            "end_at": wanted["end_at"].isoformat(),
            "override_availability": wanted["override_availability"],
        }
        return client.post(f"{API}/", body, content_type="application/json").status_code == 201
    booking = getattr(scene, write["booking"])
    if "to" in write:
        return client.post(f"{API}/{booking.pk}/{ACTIONS[write['to']]}").status_code == 200
    body = {"resource": wanted["resource"].pk, "start_at": wanted["start_at"].isoformat(), "end_at": wanted["end_at"].isoformat()}
    return client.patch(f"{API}/{booking.pk}", body, content_type="application/json").status_code == 200


def through_admin_form(client: Client, scene: Scene, write: dict) -> bool:
    wanted = target(scene, write)
    form = {
        "resource": wanted["resource"].pk,
        "customer": scene.customer.pk,
        "start_at_0": f"{wanted['start_at']:%Y-%m-%d}",
        "start_at_1": f"{wanted['start_at']:%H:%M}",
        "end_at_0": f"{wanted['end_at']:%Y-%m-%d}",
        "end_at_1": f"{wanted['end_at']:%H:%M}",
        "status": wanted["status"],
        "notes": "",
    }
    if wanted["override_availability"]:
        form["override_availability"] = "on"  # ignored where the form has no such field
    if "new" in write:
        url = reverse("admin:scheduling_booking_add")
    else:
        url = reverse("admin:scheduling_booking_change", args=[getattr(scene, write["booking"]).pk])
    return client.post(url, form).status_code == 302


def through_board(client: Client, scene: Scene, write: dict) -> bool:
    url = reverse("admin:scheduling_booking_transition", args=[getattr(scene, write["booking"]).pk])
    return client.post(url, {"to_status": write["to"]}).status_code == 200


CHANNELS = {"api": through_api, "admin form": through_admin_form, "board": through_board}


def channels_for(write: dict) -> list[str]:
    return ["api", "admin form", "board"] if "to" in write else ["api", "admin form"]


def rows() -> list[tuple]:
    """Every booking, named by what it is rather than by ids (which differ between attempts)."""
    return sorted(
        Booking.objects.values_list("resource__name", "customer__name", "start_at", "end_at", "status", "override_availability")
    )


def attempt(role: str, write: dict, channel: str) -> tuple[bool, list[tuple], list[tuple]]:
    """(accepted, rows before, rows after) of one write through one channel, on a fresh scene."""
    with transaction.atomic():
        scene = Scene(role)
        before = rows()
        client = Client()
        client.force_login(scene.user)
        accepted = CHANNELS[channel](client, scene, write)
        after = rows()
        transaction.set_rollback(True)
    return accepted, before, after


CASES = [(role, name) for role in ROLES for name in WRITES]


@pytest.mark.parametrize(("role", "name"), CASES, ids=[f"{role}-{name}" for role, name in CASES])
def test_every_channel_reaches_the_services_decision(role, name):
    write = WRITES[name]
    outcomes = {channel: attempt(role, write, channel) for channel in channels_for(write)}
    decisions = {channel: accepted for channel, (accepted, _, _) in outcomes.items()}
    assert set(decisions.values()) == {name in ALLOWED[role]}, decisions
    results = {channel: after for channel, (_, _, after) in outcomes.items()}
    first = next(iter(results.values()))
    assert all(after == first for after in results.values()), results
    accepted, before, after = next(iter(outcomes.values()))
    assert (after != before) == accepted  # a refusal writes nothing; an acceptance writes


def test_a_move_without_the_override_right_drops_a_manager_override_it_no_longer_needs(client):
    """The booker moves O (18–19, placed by a manager's override) into working hours: it is written,
    and the override, which its new time does not need and its writer may not give, is off."""
    scene = Scene("booker")
    client.force_login(scene.user)
    response = client.patch(f"{API}/{scene.o.pk}", {"start_at": at(15).isoformat(), "end_at": at(16).isoformat()}, content_type="application/json")
    assert response.status_code == 200
    scene.o.refresh_from_db()
    assert (scene.o.start_at, scene.o.override_availability) == (at(15), False)


def test_notes_of_an_override_booking_stay_editable_without_the_right(client):
    scene = Scene("booker")
    client.force_login(scene.user)
    response = client.patch(f"{API}/{scene.o.pk}", {"notes": "Bring shoes"}, content_type="application/json")
    assert response.status_code == 200
    scene.o.refresh_from_db()
    assert (scene.o.notes, scene.o.override_availability) == ("Bring shoes", True)
