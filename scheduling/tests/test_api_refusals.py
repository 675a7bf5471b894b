"""Every refusal under /api/ is JSON with the right status (docs/spec.md §6.7), and the API refuses
what its schema forbids (§6.2, §6.3): oversized bodies, too many fields, unknown paths whatever the
method, forms, numbers sent as text, empty filters, impossible pages and page sizes."""

import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from scheduling.models import Customer, ResourceType
from scheduling.tests.factories import API, client_for, snapshot

pytestmark = pytest.mark.django_db


def assert_json_detail(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}


# --- Errors in the API's own shape ----------------------------------------------------------------


def test_a_json_body_over_the_upload_limit_is_a_json_413_and_writes_nothing(api, scene, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    body = json.dumps({"name": "Eve", "email": "eve@example.com", "notes": "x" * 200_000})

    response = api.generic("POST", f"{API}/customer", body, content_type="application/json")

    assert_json_detail(response, 413)
    assert not Customer.objects.filter(name="Eve").exists()


def test_a_query_string_with_too_many_fields_is_a_json_400(api, scene):
    query = urlencode({f"field{i}": "1" for i in range(5_000)})

    assert_json_detail(api.get(f"{API}/booking?{query}"), 400)


@pytest.fixture
def session_browser(manager):
    """A signed-in browser with a CSRF cookie but no token: DRF's session check then looks for the
    token in the form, which would read it."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    browser.cookies["csrftoken"] = "a" * 32
    return browser


@pytest.mark.parametrize("form", [{f"field{i}": "1" for i in range(5_000)}, {"name": "x" * 200_000}], ids=["5000 fields", "200 kB"])
def test_a_form_of_any_size_is_a_json_415_before_it_is_read(api, session_browser, scene, settings, form):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    body = urlencode(form)

    for client in (api, session_browser):
        response = client.generic("POST", f"{API}/customer", body, content_type="application/x-www-form-urlencoded")
        assert_json_detail(response, 415)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_an_unknown_path_is_a_json_404_whatever_the_method_for_a_token_client(api, method):
    response = api.generic(method, "/api/nowhere/at/all", json.dumps({"a": 1}), content_type="application/json")

    assert_json_detail(response, 404)


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_an_unknown_path_is_a_json_404_not_a_csrf_page_even_when_csrf_is_enforced(manager, method):
    token_browser = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=client_for(manager)._credentials["HTTP_AUTHORIZATION"])
    session_browser = Client(enforce_csrf_checks=True)
    session_browser.force_login(manager)

    for client in (token_browser, session_browser, Client(enforce_csrf_checks=True)):
        response = getattr(client, method)("/api/scheduling/nowhere", "a=1", content_type="application/x-www-form-urlencoded")
        assert_json_detail(response, 404)


def test_a_method_the_route_does_not_offer_is_a_json_405(api, scene):
    responses = [api.delete(f"{API}/booking"), api.get(f"{API}/booking/check_availability"), api.put(f"{API}/booking/{scene.booking_a.pk}/confirm")]

    for response in responses:
        assert_json_detail(response, 405)


def test_a_bad_request_outside_a_view_is_json_under_api_and_html_elsewhere(rf):
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent

    from scheduling.api.errors import bad_request

    too_big = bad_request(rf.post("/api/scheduling/customer"), RequestDataTooBig("big"))
    too_many = bad_request(rf.post("/api/anything"), TooManyFieldsSent("many"))
    admin = bad_request(rf.post("/admin/"), TooManyFieldsSent("many"))

    assert (too_big.status_code, json.loads(too_big.content).keys()) == (413, {"detail"})
    assert (too_many.status_code, json.loads(too_many.content).keys()) == (400, {"detail"})
    assert admin.status_code == 400 and b"<html" in admin.content.lower()


# --- The API refuses what the schema forbids ------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_a_form_body_is_a_json_415_and_writes_nothing(api, scene, content_type):
    before = snapshot()
    body = "name=Eve&email=eve%40example.com" if "urlencoded" in content_type else '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nEve\r\n--x--\r\n'

    response = api.generic("POST", f"{API}/customer", body, content_type=content_type)

    assert_json_detail(response, 415)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        ("customer", {"name": "Eve", "email": "eve@example.com", "notes": 0}, "notes"),
        ("customer", {"name": 5, "email": "eve@example.com"}, "name"),
        ("resource_type", {"name": True, "color": "#aabbcc"}, "name"),
        ("availability", {"resource": "{a}", "weekday": "0", "start_time": "08:00", "end_time": "12:00"}, "weekday"),
        ("availability", {"resource": "{a_str}", "weekday": 0, "start_time": "08:00", "end_time": "12:00"}, "resource"),
        ("booking", {"resource": "{a}", "customer": "{customer}", "start_at": "2030-03-04T13:00:00Z", "end_at": "2030-03-04T14:00:00Z", "override_availability": 1}, "override_availability"),
        ("resource", {"name": "Room 2", "type": "{type}", "metadata": []}, "metadata"),
        ("resource", {"name": "Room 2", "type": "{type}", "active": "true"}, "active"),
    ],
)
def test_a_json_value_of_another_type_than_the_schema_says_is_400_naming_it(api, scene, route, body, field):
    ids = {"{a}": scene.a.pk, "{a_str}": str(scene.a.pk), "{customer}": scene.customer.pk, "{type}": scene.type.pk}
    body = {key: ids.get(value, value) if isinstance(value, str) else value for key, value in body.items()}
    before = snapshot()

    response = api.post(f"{API}/{route}", body, format="json")

    assert response.status_code == 400 and field in response.json(), response.content[:300]
    assert snapshot() == before


def test_strings_are_stored_as_sent_so_max_length_counts_what_was_sent(api):
    exact = api.post(f"{API}/resource_type", {"name": " Hall ", "color": "#aabbcc"}, format="json")
    too_long = api.post(f"{API}/resource_type", {"name": "\t" + "x" * 100}, format="json")

    assert exact.status_code == 201 and ResourceType.objects.get(pk=exact.json()["id"]).name == " Hall "
    assert too_long.status_code == 400 and "name" in too_long.json()


@pytest.mark.parametrize("page", ["0", "", "-1"])
def test_a_page_below_one_or_empty_is_a_json_404(api, scene, page):
    assert_json_detail(api.get(f"{API}/booking?page={page}"), 404)


@pytest.mark.parametrize("page_size", ["0", "", "null", "-5", "x", "1.5"])
def test_a_page_size_that_is_not_a_positive_integer_is_400_naming_it(api, scene, page_size):
    response = api.get(f"{API}/booking?page_size={page_size}")

    assert response.status_code == 400 and "page_size" in response.json()


@pytest.mark.parametrize(
    "query",
    ["start=", "end=", "resource=", "customer=", "type=", "resource_type=", "status=", "start=2030-03-04T00:00:00Z&end="],
)
def test_an_empty_filter_on_bookings_is_400_naming_it_not_no_filter(api, scene, query):
    response = api.get(f"{API}/booking?{query}")

    assert response.status_code == 400, response.content[:300]
    assert query.split("&")[-1].rstrip("=") in response.json()


@pytest.mark.parametrize(("route", "query"), [("resource", "active="), ("resource", "type="), ("availability", "weekday="), ("exception", "start=")])
def test_an_empty_filter_on_other_lists_is_400_naming_it(api, scene, route, query):
    response = api.get(f"{API}/{route}?{query}")

    assert response.status_code == 400 and query.rstrip("=") in response.json()


def test_a_resource_type_without_color_gets_the_default_the_schema_states(api):
    schema = api.get("/api/schema/?format=json").json()["components"]["schemas"]["ResourceTypeRequest"]

    created = api.post(f"{API}/resource_type", {"name": "Desk"}, format="json")

    assert schema["properties"]["color"]["default"] == "#4f46e5"
    assert created.status_code == 201 and created.json()["color"] == "#4f46e5"
