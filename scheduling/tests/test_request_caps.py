"""Every list-shaped answer is bounded (docs/spec.md §2.4, §6.5, §10.3, §10.5): slots come in pages of
at most `limit` (≤ 5,000) with `next`, on a grid of at least 5 minutes; the utilisation page covers
at most 93 days."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from scheduling import engine
from scheduling.services import availability
from scheduling.services.availability import free_slots, free_slots_page
from scheduling.tests.factories import API
from scheduling.tests.factories import ResourceFactory, ResourceTypeFactory, UserFactory

pytestmark = pytest.mark.django_db
START = dt.datetime(2030, 3, 4, tzinfo=dt.UTC)
FIVE = dt.timedelta(minutes=5)


@pytest.fixture
def always_open():
    """No availability rows: free around the clock, so 62 days at 5 minutes hold 17,856 slots."""
    return ResourceFactory(name="Open", timezone="UTC")


def slots_url(resource, **query):
    query = {"start": "2030-03-04T00:00:00Z", "end": "2030-05-05T00:00:00Z", "duration": "5", "step": "5"} | query
    return f"{API}/resource/{resource.pk}/slots?" + "&".join(f"{k}={v}" for k, v in query.items())


def test_slots_answer_at_most_500_by_default_and_name_the_next_start(api, always_open):
    response = api.get(slots_url(always_open))

    body = response.json()
    assert response.status_code == 200 and set(body) == {"resource", "slots", "next"}
    assert len(body["slots"]) == 500
    assert body["slots"][-1]["start_at"] == "2030-03-05T17:35:00Z"
    assert body["next"] == "2030-03-05T17:40:00Z"


@pytest.mark.parametrize(("limit", "count"), [("1", 1), ("5000", 5000), ("5001", 5000), ("99999999999999999999", 5000)])
def test_a_limit_above_5000_is_read_as_5000_never_an_error(api, always_open, limit, count):
    response = api.get(slots_url(always_open, limit=limit))
    assert (response.status_code, len(response.json()["slots"])) == (200, count)


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "1.5"])
def test_a_limit_below_one_or_not_a_number_is_400_naming_limit(api, always_open, limit):
    response = api.get(slots_url(always_open, limit=limit))
    assert response.status_code == 400 and "limit" in response.json()


@pytest.mark.parametrize("step", ["1", "4"])
def test_a_step_under_5_minutes_is_400_naming_step(api, always_open, step):
    response = api.get(slots_url(always_open, step=step))
    assert response.status_code == 400 and "step" in response.json()


def test_a_short_duration_alone_gets_the_5_minute_grid(api, always_open):
    response = api.get(slots_url(always_open, duration="1", step="5").replace("&step=5", "") + "&limit=3")
    assert response.status_code == 200
    assert [s["start_at"][11:16] for s in response.json()["slots"]] == ["00:00", "00:05", "00:10"]
    assert response.json()["slots"][0]["end_at"] == "2030-03-04T00:01:00Z"


def test_next_is_null_when_the_answer_is_complete(api, always_open):
    response = api.get(slots_url(always_open, end="2030-03-04T01:00:00Z", duration="30", step="30", limit="2"))
    assert response.json()["next"] is None and len(response.json()["slots"]) == 2


def test_following_next_walks_every_slot_exactly_once(api, scene):
    """Resource A works Mondays 08–18 and has bookings and leave: pages of 7 add up to the whole answer."""
    query = {"start": "2030-03-04T00:00:00Z", "end": "2030-03-19T00:00:00Z", "duration": "45", "step": "15"}
    whole = api.get(slots_url(scene.a, **query, limit="5000")).json()
    assert whole["next"] is None and len(whole["slots"]) > 40
    walked, start = [], query["start"]
    while start is not None:
        page = api.get(slots_url(scene.a, **(query | {"start": start}), limit="7")).json()
        walked += page["slots"]
        start = page["next"] and page["next"].replace("+", "%2B")
    assert walked == whole["slots"]


def test_the_service_stops_generating_after_limit_plus_one_slots(always_open, monkeypatch):
    generated = []
    real = engine.slot_starts

    def counting(**kwargs):
        for t in real(**kwargs):
            generated.append(t)
            yield t

    monkeypatch.setattr(availability.engine, "slot_starts", counting)
    page = free_slots_page(always_open, START, START + dt.timedelta(days=62), FIVE, FIVE, limit=10)

    assert len(page.slots) == 10 and page.next_start == START + 10 * FIVE
    assert len(generated) == 11


def test_the_service_refuses_a_step_under_5_minutes():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        free_slots(ResourceFactory(), START, START + dt.timedelta(days=1), FIVE, dt.timedelta(minutes=4))
    assert "step" in error.value.message_dict


# --- free_slots command -------------------------------------------------------------------------------


def test_the_free_slots_command_refuses_a_step_under_5_minutes(always_open):
    with pytest.raises(CommandError, match="--step: The step must be at least 5 minutes."):
        call_command("free_slots", "--type", always_open.type.name, "--on", "2030-03-04", "--duration", "1", "--step", "1", stdout=io.StringIO())


def test_the_free_slots_command_gives_a_short_duration_the_5_minute_grid(always_open):
    out = io.StringIO()
    call_command("free_slots", "--type", always_open.type.name, "--on", "2030-03-04", "--duration", "1", "--format", "csv", stdout=out)
    assert len(out.getvalue().splitlines()) == 1 + 288


# --- The utilisation page -----------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    ResourceFactory(type=ResourceTypeFactory(name="Room"))
    return client


@pytest.mark.parametrize("csv", [False, True])
def test_the_utilisation_page_refuses_more_than_93_days_naming_to(superuser_client, csv):
    extra = {"format": "csv"} if csv else {}
    response = superuser_client.get("/admin/scheduling/utilisation/", {"from": "2030-01-01", "to": "2030-04-04"} | extra)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert response.context["report"] is None
    assert response.context["form"].errors["to"] == ["The period may be at most 93 days long."]


def test_the_utilisation_page_takes_93_days_and_the_command_366(superuser_client):
    page = superuser_client.get("/admin/scheduling/utilisation/", {"from": "2030-01-01", "to": "2030-04-03", "format": "csv"})
    assert page.status_code == 200 and page["Content-Type"] == "text/csv; charset=utf-8"
    out = io.StringIO()
    call_command("availability_report", "--from", "2030-01-01", "--to", "2030-12-31", "--format", "csv", stdout=out)
    assert out.getvalue().startswith("row,")
