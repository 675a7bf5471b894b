"""Migration 0010 numbers the notices already in the outbox before SEQUENCE becomes unique per
booking (docs/spec.md §12.2): without it, a booking with two notices would stop the migration."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("scheduling", "0009_series_and_groups")]
AFTER = [("scheduling", "0010_front_desk")]


def test_existing_notices_are_numbered_per_booking_in_the_order_written():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    at = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)
    kind = apps.get_model("scheduling", "ResourceType").objects.create(name="Room", color="#123456")
    resource = apps.get_model("scheduling", "Resource").objects.create(name="A", type=kind, timezone="UTC")
    customer = apps.get_model("scheduling", "Customer").objects.create(name="Ola", email="ola@example.com")
    booking = apps.get_model("scheduling", "Booking").objects.create(
        resource=resource, customer=customer, start_at=at, end_at=at + dt.timedelta(hours=1), status="cancelled",
        occupied_start=at, occupied_end=at + dt.timedelta(hours=1),
    )
    Notification = apps.get_model("scheduling", "Notification")
    for event in ("created", "approval", "confirmed", "cancelled"):
        Notification.objects.create(booking=booking, event=event, recipients=[], subject=event, text_body="", html_body="", ics="")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    numbered = apps.get_model("scheduling", "Notification").objects.order_by("sequence").values_list("event", "sequence")
    # In the order written; the approval notice (SEQUENCE 0 before) no longer collides with "created".
    assert list(numbered) == [("created", 0), ("approval", 1), ("confirmed", 2), ("cancelled", 3)]
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
