"""Every refusal under /api/ is JSON with the right status (docs/spec.md §6.7), and the API refuses
what its schema forbids (§6.2, §6.3): oversized bodies, too many fields, unknown paths whatever the
method, forms, numbers sent as text, empty filters, impossible pages and page sizes."""

import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from scheduling.models import Customer, ResourceType
from scheduling.tests.api.personas import API, api, client_for, manager, scene, snapshot  # noqa: F401 - fixtures

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
