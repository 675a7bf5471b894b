"""Ids from outside are ASCII digits within a bigint, parsed by `scheduling.ids.parse_id` (404 in a
path, 400 elsewhere, an error naming the option in a command); time zone names are places
(docs/spec.md §1)."""

import io

import pytest
from django.core.management import CommandError, call_command

from scheduling.models import Availability, Booking, Resource, validate_timezone
from scheduling.tests.factories import API, at, iso
from scheduling.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def arabic(pk: int) -> str:
    """The same number in Arabic-Indic digits, which `int()` and `str.isdigit()` accept."""
    return str(pk).translate(ARABIC_INDIC)


def hostile_spellings(pk: int) -> list[str]:
    return [arabic(pk), f"{pk}%20", f"%20{pk}", f"{pk}²", f"+{pk}", f"{pk}.0", "²"]


# --- API paths: 404, never another spelling of a row -------------------------------------------------


def test_a_path_id_in_other_digits_or_with_spaces_is_a_json_404(api, scene):
    pk = scene.booking_a.pk
    assert api.get(f"{API}/booking/{pk}").status_code == 200
    for spelling in hostile_spellings(pk):
        response = api.get(f"{API}/booking/{spelling}")
        assert (spelling, response.status_code) == (spelling, 404)
        assert response["Content-Type"] == "application/json" and "detail" in response.json()


def test_a_write_to_a_non_id_path_changes_nothing(api, scene):
    pk = scene.booking_a.pk
    patched = api.patch(f"{API}/booking/{arabic(pk)}", {"notes": "changed"})
    deleted = api.delete(f"{API}/resource/{arabic(scene.spare.pk)}")
    confirmed = api.post(f"{API}/booking/{arabic(pk)}/confirm")

    assert (patched.status_code, deleted.status_code, confirmed.status_code) == (404, 404, 404)
    assert Booking.objects.get(pk=pk).notes == "" and Booking.objects.get(pk=pk).status == "pending"
    assert Resource.objects.filter(pk=scene.spare.pk).exists()


def test_the_slots_of_a_non_id_path_are_404(api, scene):
    response = api.get(f"{API}/resource/{arabic(scene.a.pk)}/slots?start={iso(at(0))}&end={iso(at(24))}&duration=60")
    assert response.status_code == 404


# --- API query strings and bodies: 400 naming the parameter ------------------------------------------


@pytest.mark.parametrize("name", ["resource", "customer", "type"])
def test_a_filter_id_in_other_digits_is_400_naming_the_parameter(api, scene, name):
    pk = {"resource": scene.a.pk, "customer": scene.customer.pk, "type": scene.type.pk}[name]
    for spelling in (arabic(pk), f"{pk}%20", "²"):
        response = api.get(f"{API}/booking?{name}={spelling}")
        assert (spelling, response.status_code) == (spelling, 400) and name in response.json()
    assert api.get(f"{API}/booking?{name}={pk}").status_code == 200


def test_available_with_a_type_in_other_digits_is_400_naming_type(api, scene):
    response = api.get(f"{API}/resource/available?type={arabic(scene.type.pk)}&start_at={iso(at(9))}&end_at={iso(at(10))}")
    assert response.status_code == 400 and "type" in response.json()


def test_check_availability_with_an_id_in_other_digits_is_400_naming_it(api, scene):
    body = {"resource_id": arabic(scene.a.pk), "start_at": iso(at(9)), "end_at": iso(at(10))}
    response = api.post(f"{API}/booking/check_availability", body, format="json")
    assert response.status_code == 400 and "resource_id" in response.json()
    assert api.post(f"{API}/booking/check_availability", body | {"resource_id": scene.a.pk}, format="json").status_code == 200


# --- Commands: an error naming the option, never a traceback or another row --------------------------


def command(name, *args):
    call_command(name, *args, stdout=io.StringIO(), stderr=io.StringIO())


def test_availability_report_refuses_a_resource_id_in_other_digits(scene):
    command("availability_report", "--from", "2030-03-04", "--to", "2030-03-04", "--resource", str(scene.a.pk))
    with pytest.raises(CommandError, match="--resource"):
        command("availability_report", "--from", "2030-03-04", "--to", "2030-03-04", "--resource", arabic(scene.a.pk))


@pytest.mark.parametrize("name", ["availability_report", "free_slots"])
@pytest.mark.parametrize("spelling", ["²", "arabic"])
def test_a_type_that_is_no_name_and_no_id_is_an_unknown_type(scene, name, spelling):
    value = arabic(scene.type.pk) if spelling == "arabic" else spelling
    args = ["--from", "2030-03-04", "--to", "2030-03-04"] if name == "availability_report" else ["--on", "2030-03-04", "--duration", "60"]
    with pytest.raises(CommandError, match="--type: Unknown resource type"):
        command(name, "--type", value, *args)


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "right/UTC", "posix/Europe/Warsaw"])
def test_the_reports_refuse_a_zone_that_is_not_a_place(scene, zone):
    with pytest.raises(CommandError, match="--tz"):
        command("availability_report", "--from", "2030-03-04", "--to", "2030-03-04", "--tz", zone)


# --- Time zone names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "right/Europe/Warsaw", "posix/UTC", "", "Mars/Olympus"])
def test_a_resource_in_a_zone_that_is_not_a_place_is_400_naming_timezone(api, scene, zone):
    response = api.post(f"{API}/resource", {"name": "X", "type": scene.type.pk, "timezone": zone}, format="json")
    assert response.status_code == 400 and "timezone" in response.json()


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC", "Etc/GMT+5", "Europe/Warsaw", "US/Eastern"])
def test_iana_zones_and_their_links_are_accepted(zone):
    validate_timezone(zone)


# --- Admin: forms and paths --------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_utilisation_form_refuses_a_type_in_other_digits(superuser_client, scene):
    query = {"from": "2030-03-04", "to": "2030-03-04"}
    ok = superuser_client.get("/admin/scheduling/utilisation/", query | {"type": str(scene.type.pk)})
    refused = superuser_client.get("/admin/scheduling/utilisation/", query | {"type": arabic(scene.type.pk)})
    assert ok.context["report"] is not None
    assert refused.status_code == 200 and refused.context["report"] is None and "type" in refused.context["form"].errors


def test_an_admin_change_page_in_other_digits_is_a_missing_object(superuser_client, scene):
    pk = scene.booking_a.pk
    assert superuser_client.get(f"/admin/scheduling/booking/{pk}/change/").status_code == 200
    response = superuser_client.get(f"/admin/scheduling/booking/{arabic(pk)}/change/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_an_admin_foreign_key_in_other_digits_is_a_form_error(superuser_client, scene):
    before = Availability.objects.count()
    data = {"resource": arabic(scene.spare.pk), "weekday": "2", "start_time": "09:00", "end_time": "10:00"}
    response = superuser_client.post("/admin/scheduling/availability/add/", data)
    assert response.status_code == 200 and "resource" in response.context["adminform"].form.errors
    assert Availability.objects.count() == before
