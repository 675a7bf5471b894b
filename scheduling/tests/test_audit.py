"""The audit trail (docs/spec.md §15.1): a row for every write channel with its actor and field
changes, in the writer's transaction; the history in the API and the admin; retention."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django_tasks import task
from guardian.shortcuts import assign_perm

from scheduling import roles
from scheduling.audit import audit_context, entry_channel, entry_reason
from scheduling.models import Booking, Resource
from scheduling.permissions import SYSTEM
from scheduling.services import bookings as booking_service
from scheduling.tasks import worker_task
from scheduling.tests.factories import API, client_for
from scheduling.tests.factories import staff as api_user
from scheduling.tests.factories import AvailabilityFactory, BookingFactory, ResourceFactory, UserFactory

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc


def at(hour: int) -> dt.datetime:
    return dt.datetime(2026, 3, 2, hour, tzinfo=UTC)  # a Monday


def trail(obj) -> list[tuple]:
    """(actor username, channel, changes, reason) of each entry, oldest first."""
    entries = LogEntry.objects.get_for_object(obj).order_by("timestamp", "id")
    return [(e.actor.username if e.actor else None, entry_channel(e), e.changes_dict, entry_reason(e)) for e in entries]


@pytest.fixture
def booking(resource, customer):
    AvailabilityFactory(resource=resource, weekday=0, start_time=dt.time(9), end_time=dt.time(17))
    with audit_context(channel="command"):
        return booking_service.booking_create(by=SYSTEM, resource=resource, customer=customer, start_at=at(10), end_at=at(11))


def staff(role: str, name: str):
    user = UserFactory(username=name, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


# --- One row per write, per channel -------------------------------------------------------------


def test_a_command_write_is_recorded_with_no_actor_and_every_field_created(booking):
    [(actor, channel, changes, reason)] = trail(booking)
    assert (actor, channel, reason) == (None, "command", "")
    assert changes["status"] == [None, "pending"]
    assert changes["start_at"][0] is None and changes["start_at"][1].startswith("2026-03-02 10:00")


def test_an_api_write_is_recorded_with_its_token_user_the_changed_field_and_the_reason(booking):
    manager = api_user(roles.MANAGER, username="manager")
    answer = client_for(manager).patch(
        f"{API}/booking/{booking.pk}", {"notes": "ground floor"}, format="json", HTTP_X_AUDIT_REASON="customer called"
    )
    assert answer.status_code == 200
    assert trail(booking)[-1] == ("manager", "api", {"notes": ["", "ground floor"]}, "customer called")


def test_an_admin_form_write_is_recorded_as_admin(resource):
    kind = resource.type
    client = Client()
    client.force_login(staff(roles.MANAGER, "boss"))
    form = {"name": "Vans", "color": kind.color, "reminder_before": "[60]", "buffer_before": 0, "buffer_after": 0, "offer_hold": 60}
    answer = client.post(reverse("admin:scheduling_resourcetype_change", args=[kind.pk]), form)
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    assert trail(kind)[-1] == ("boss", "admin", {"name": [kind.name, "Vans"], "reminder_before": [[], [60]]}, "")


def test_a_board_move_is_recorded_as_board(booking):
    client = Client()
    client.force_login(staff(roles.MANAGER, "boss"))
    answer = client.post(reverse("admin:scheduling_booking_transition", args=[booking.pk]), {"to_status": "confirmed"})
    assert answer.status_code == 200
    assert trail(booking)[-1] == ("boss", "board", {"status": ["pending", "confirmed"]}, "")


@worker_task
def confirm_in_worker(booking_id: int) -> None:
    booking_service.booking_confirm(booking=Booking.objects.get(pk=booking_id), by=SYSTEM)


def test_a_worker_write_is_recorded_as_worker(booking):
    confirm_in_worker.enqueue(booking.pk)  # the immediate backend runs it here
    assert trail(booking)[-1] == (None, "worker", {"status": ["pending", "confirmed"]}, "")


def test_a_management_command_write_is_recorded_as_command(resource):
    user = UserFactory(username="trainer")
    call_command("grant", user.username, "--resource", str(resource.pk), "--book", stdout=StringIO())
    grant = LogEntry.objects.filter(content_type__model="userobjectpermission").get()
    assert (grant.actor, entry_channel(grant)) == (None, "command")
    assert [str(v) for v in grant.changes_dict["object_pk"]] == ["None", str(resource.pk)]


def test_a_grant_given_in_code_is_audited(resource):
    user = UserFactory()
    assign_perm("scheduling.book_resource", user, resource)
    assert LogEntry.objects.filter(content_type__model="userobjectpermission", action=LogEntry.Action.CREATE).count() == 1


def test_a_rolled_back_write_leaves_no_audit_row(resource):
    with pytest.raises(RuntimeError), transaction.atomic():
        Resource.objects.create(name="Ghost", type=resource.type)
        raise RuntimeError
    assert not LogEntry.objects.filter(object_repr="Ghost").exists()


def test_a_refused_booking_write_leaves_no_audit_row(booking):
    before = LogEntry.objects.count()
    viewer = api_user(roles.VIEWER, username="viewer")
    assert client_for(viewer).patch(f"{API}/booking/{booking.pk}", {"notes": "x"}, format="json").status_code == 403
    assert LogEntry.objects.count() == before


def test_the_webhook_secret_is_masked_in_the_trail():
    manager = api_user(roles.MANAGER, username="manager")
    body = {"url": "https://hooks.example.com/in", "events": ["booking.created"]}
    answer = client_for(manager).post(f"{API}/webhook/", body, format="json")
    entry = LogEntry.objects.get(content_type__model="webhookendpoint")
    assert answer.json()["secret"] not in str(entry.changes)


# --- The history route ---------------------------------------------------------------------------


def test_the_history_lists_the_objects_changes_newest_first_paginated(booking):
    manager = api_user(roles.MANAGER, username="manager")
    client = client_for(manager)
    client.patch(f"{API}/booking/{booking.pk}", {"notes": "one"}, format="json")
    client.post(f"{API}/booking/{booking.pk}/confirm")
    answer = client.get(f"{API}/booking/{booking.pk}/history", {"page_size": 2})
    assert answer.status_code == 200
    page = answer.json()
    assert page["count"] == 3 and page["next"] is not None
    assert [entry["changes"] for entry in page["results"]] == [{"status": ["pending", "confirmed"]}, {"notes": ["", "one"]}]
    first = page["results"][0]
    assert set(first) == {"at", "actor", "channel", "changes", "reason"}
    assert (first["actor"], first["channel"], first["reason"]) == ("manager", "api", "")
    assert dt.datetime.fromisoformat(first["at"].replace("Z", "+00:00"))


def test_the_history_of_an_object_the_user_may_not_see_is_404(booking):
    outsider = api_user(None, username="outsider")
    assert client_for(outsider).get(f"{API}/booking/{booking.pk}/history").status_code == 404
    assert client_for(outsider).get(f"{API}/resource/{booking.resource_id}/history").status_code == 404


def test_a_granted_user_sees_the_history_of_their_resources_bookings(booking):
    granted = api_user(None, username="granted")
    assign_perm("scheduling.book_resource", granted, booking.resource)
    assert client_for(granted).get(f"{API}/booking/{booking.pk}/history").status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_history_is_not_writable(booking, method):
    manager = api_user(roles.MANAGER, username="manager")
    before = LogEntry.objects.count()
    assert getattr(client_for(manager), method)(f"{API}/booking/{booking.pk}/history").status_code == 405
    assert LogEntry.objects.count() == before


@pytest.mark.parametrize("route", ["resource", "resource_type", "customer", "availability", "exception", "webhook"])
def test_every_model_route_has_a_history(route, booking):
    manager = api_user(roles.MANAGER, username="manager")
    obj_id = {"resource": booking.resource_id, "resource_type": booking.resource.type_id, "customer": booking.customer_id}.get(route)
    if route == "availability":
        obj_id = booking.resource.availability.first().pk
    elif route == "exception":
        obj_id = client_for(manager).post(
            f"{API}/exception/", {"resource": booking.resource_id, "start_at": "2026-03-03T09:00:00Z", "end_at": "2026-03-03T10:00:00Z"}, format="json"
        ).json()["id"]
    elif route == "webhook":
        obj_id = client_for(manager).post(f"{API}/webhook/", {"url": "https://hooks.example.com/in", "events": ["booking.created"]}, format="json").json()["id"]
    answer = client_for(manager).get(f"{API}/{route}/{obj_id}/history")
    assert answer.status_code == 200
    assert answer.json()["count"] >= 1


# --- Admin "History" and retention ----------------------------------------------------------------


def test_the_admin_history_shows_field_changes_actor_and_channel(booking):
    manager = api_user(roles.MANAGER, username="manager")
    client_for(manager).patch(f"{API}/booking/{booking.pk}", {"notes": "ground floor"}, format="json")
    client = Client()
    client.force_login(staff(roles.MANAGER, "boss"))
    page = client.get(reverse("admin:scheduling_booking_history", args=[booking.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "ground floor" in html and "manager" in html and "api" in html and "notes" in html


def test_prune_history_deletes_only_rows_older_than_the_cutoff(resource):
    with time_machine.travel(dt.datetime(2026, 1, 1, tzinfo=UTC), tick=False):
        ResourceFactory(name="Old")
    with time_machine.travel(dt.datetime(2026, 3, 1, tzinfo=UTC), tick=False):
        ResourceFactory(name="New")
        out = StringIO()
        call_command("prune_history", "--older-than", "30", stdout=out)
    assert "Deleted" in out.getvalue()
    assert not LogEntry.objects.filter(object_repr="Old").exists()
    assert LogEntry.objects.filter(object_repr="New").exists()


def test_prune_history_refuses_less_than_a_day():
    with pytest.raises(Exception, match="at least 1"):
        call_command("prune_history", "--older-than", "0")
