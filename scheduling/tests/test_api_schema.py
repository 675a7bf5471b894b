"""The OpenAPI schema: valid with no warning, served, and true about the shapes that matter most."""

import pytest
from django.core.management import call_command

from scheduling.tests.factories import API, client_for

pytestmark = pytest.mark.django_db


def test_spectacular_validates_the_schema_without_a_warning(tmp_path):
    # The command CI and the issue name; --fail-on-warn turns any guess of drf-spectacular into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/scheduling/booking/check_availability/" in (tmp_path / "schema.yaml").read_text()


@pytest.fixture
def schema():
    response = client_for().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_docs_and_redoc_are_served_to_anyone():
    client = client_for()
    assert [client.get(path).status_code for path in ("/api/schema", "/api/docs/", "/api/redoc")] == [200, 200, 200]


def test_the_schema_describes_the_409_conflict_body(schema):
    create = schema["paths"]["/api/scheduling/booking/"]["post"]["responses"]
    body = schema["components"]["schemas"]["ConflictError"]
    conflict = schema["components"]["schemas"]["Conflict"]
    assert create["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/ConflictError")
    assert set(body["required"]) == {"detail", "conflicts"}
    assert set(conflict["properties"]) == {"kind", "id", "start_at", "end_at", "status", "rule", "detail", "reason", "remaining"}
    assert "status" not in conflict["required"]


def test_the_schema_describes_the_availability_questions(schema):
    check = schema["paths"]["/api/scheduling/booking/check_availability/"]["post"]
    slots = schema["paths"]["/api/scheduling/resource/{id}/slots/"]["get"]
    available = schema["paths"]["/api/scheduling/resource/available/"]["get"]
    request = schema["components"]["schemas"]["CheckAvailabilityRequest"]
    assert set(request["required"]) == {"resource_id", "start_at", "end_at"}
    assert check["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/AvailabilityAnswer")
    assert {"400", "404"} <= set(check["responses"])
    assert {p["name"] for p in slots["parameters"]} == {"id", "start", "end", "duration", "step", "limit", "quantity"}
    assert {p["name"] for p in available["parameters"]} == {"type", "start_at", "end_at", "quantity"}
    assert available["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"


def test_the_schema_describes_the_error_shapes(schema):
    transition = schema["paths"]["/api/scheduling/booking/{id}/confirm/"]["post"]["responses"]
    delete_resource = schema["paths"]["/api/scheduling/resource/{id}/"]["delete"]["responses"]
    assert transition["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/TransitionError")
    assert delete_resource["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert "additionalProperties" in schema["components"]["schemas"]["ValidationError"]


def test_every_scheduling_route_is_in_the_schema(schema):
    for route in ("resource_type", "resource", "customer", "booking", "availability", "exception"):
        assert {"get", "post"} <= set(schema["paths"][f"{API}/{route}/"])
        assert {"get", "put", "patch", "delete"} <= set(schema["paths"][f"{API}/{route}/{{id}}/"])


def test_swagger_ui_and_redoc_load_their_assets_from_our_own_static_files():
    from django.test import Client

    client = Client()
    for path in ("/api/docs/", "/api/redoc/"):
        page = client.get(path).content.decode()
        assert "drf_spectacular_sidecar/" in page
        assert "cdn." not in page and "//unpkg" not in page
    assert client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200


def test_the_schema_states_the_constraints_the_api_enforces(schema):
    detail = schema["paths"]["/api/scheduling/booking/{id}/"]["put"]
    listing = {p["name"]: p["schema"] for p in schema["paths"]["/api/scheduling/resource/"]["get"]["parameters"]}
    customer = schema["components"]["schemas"]["CustomerRequest"]["properties"]
    booking = schema["components"]["schemas"]["BookingRequest"]["properties"]

    assert detail["parameters"][0]["schema"] | {"maximum": None} == {"type": "integer", "format": "int64", "minimum": 1, "maximum": None}
    assert list(detail["requestBody"]["content"]) == ["application/json"]
    assert {"413", "415"} <= set(detail["responses"])
    assert listing["page_size"] == {"type": "integer", "minimum": 1}
    assert listing["type"]["minimum"] == 1 and set(listing["active"]["enum"]) == {"true", "false", "True", "False", "1", "0"}
    assert customer["notes"]["pattern"] == "^[^\\u0000]*$" and customer["notes"]["default"] == ""
    assert booking["resource"]["minimum"] == 1 and booking["override_availability"]["default"] is False
