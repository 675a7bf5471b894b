"""Admin pages of docs/spec.md §16: subscriptions show a broken source; feeds are rotated and revoked."""

import pytest
from django.urls import reverse

from scheduling.models import CalendarSubscription, ExceptionKind, ResourceFeed, ScheduleException
from scheduling.permissions import SYSTEM
from scheduling.services import feeds
from scheduling.tests.factories import ResourceFactory, ScheduleExceptionFactory

pytestmark = pytest.mark.django_db


def test_a_broken_source_is_shown_in_the_list_next_to_what_it_imported(client, manager):  # noqa: F811
    subscription = CalendarSubscription.objects.create(
        resource=ResourceFactory(), url="https://calendar.example.org/t.ics", last_error="The server answered 500."
    )
    ScheduleExceptionFactory(resource=subscription.resource, kind=ExceptionKind.EXTERNAL, subscription=subscription, source_uid="a@x")
    client.force_login(manager)

    page = client.get(reverse("admin:scheduling_calendarsubscription_changelist")).content.decode()

    assert "broken: The server answered 500." in page
    assert ScheduleException.objects.filter(subscription=subscription).count() == 1


def test_a_booker_has_no_subscription_pages(client, booker):  # noqa: F811
    client.force_login(booker)

    assert client.get(reverse("admin:scheduling_calendarsubscription_changelist")).status_code == 403
    assert client.get(reverse("admin:scheduling_resourcefeed_changelist")).status_code == 403


def test_the_admin_rotates_and_revokes_a_feed(client, manager):  # noqa: F811
    feed = feeds.resource_feed(by=SYSTEM, resource=ResourceFactory())
    old_token = feed.token
    client.force_login(manager)
    changelist = reverse("admin:scheduling_resourcefeed_changelist")

    client.post(changelist, {"action": "rotate", "_selected_action": [feed.pk]})
    feed.refresh_from_db()
    assert feed.token != old_token and feeds.feed_by_token(old_token) is None

    client.post(changelist, {"action": "revoke", "_selected_action": [feed.pk]})
    assert not ResourceFeed.objects.exists()


def test_the_admin_adds_a_subscription_and_a_feed_through_the_services(client, manager):  # noqa: F811
    resource = ResourceFactory()
    client.force_login(manager)

    added = client.post(
        reverse("admin:scheduling_calendarsubscription_add"), {"resource": resource.pk, "url": "https://calendar.example.org/t.ics", "name": "Tom"}
    )
    feed_added = client.post(reverse("admin:scheduling_resourcefeed_add"), {"resource": resource.pk, "details": "on"})

    assert (added.status_code, feed_added.status_code) == (302, 302)
    assert CalendarSubscription.objects.get().next_sync_at is not None  # set by the service, not the form
    feed = ResourceFeed.objects.get()
    assert feed.details and feeds.feed_by_token(feed.token) == feed
    assert client.get(reverse("admin:scheduling_resourcefeed_change", args=[feed.pk])).status_code == 200
    assert client.get(reverse("admin:scheduling_calendarsubscription_change", args=[CalendarSubscription.objects.get().pk])).status_code == 200


def test_fetch_now_runs_a_few_calendars_at_a_time_in_the_request(client, manager, monkeypatch):
    from scheduling.admin.calendars import SYNC_NOW_MAX
    from scheduling.services import calendars

    fetched = []
    monkeypatch.setattr(calendars, "calendar_sync", lambda subscription, by: fetched.append(subscription.pk) or "updated")
    many = [CalendarSubscription.objects.create(resource=ResourceFactory(), url=f"https://calendar.example.org/{k}.ics") for k in range(SYNC_NOW_MAX + 1)]
    client.force_login(manager)
    changelist = reverse("admin:scheduling_calendarsubscription_changelist")

    refused = client.post(changelist, {"action": "sync_now", "_selected_action": [s.pk for s in many]}, follow=True)
    client.post(changelist, {"action": "sync_now", "_selected_action": [many[0].pk]})

    assert f"at most {SYNC_NOW_MAX} calendars" in refused.content.decode()
    assert fetched == [many[0].pk]
