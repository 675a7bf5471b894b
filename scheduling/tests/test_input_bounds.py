"""Input bounds (docs/spec.md §6.2 "Text" and "metadata", §8.2): control characters in text fields,
the depth and size of `metadata`, one rule for model validation, the API and the admin; and no page
or answer fails on a row stored before the bounds existed."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from scheduling import roles
from scheduling.models import Booking, Customer, Resource, ResourceType, ScheduleException
from scheduling.tests.factories import staff
from scheduling.tests.factories import API, snapshot
from scheduling.tests.factories import AvailabilityFactory, BookingFactory, CustomerFactory, ResourceFactory
from scheduling.validators import METADATA_MAX_BYTES, UNREADABLE_METADATA_KEY, unreadable_metadata

pytestmark = pytest.mark.django_db
HEADER_INJECTION = "Room\r\nBcc: victim@example.com"
# Every control character class the rule names: CR, LF, NUL, tab, another C0, DEL, a C1.
SINGLE_LINE_REFUSED = ["a\rb", "a\nb", "a\x00b", "a\tb", "a\x1bb", "a\x7fb", "a\x85b"]
MULTI_LINE_REFUSED = ["a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\x0bb", "a\x0cb"]


def nested(depth: int) -> dict:
    """A JSON object `depth` levels deep (`{}` is one level), built without recursion."""
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def nested_text(depth: int) -> str:
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


@pytest.fixture
def staff_manager(db):
    return staff(roles.MANAGER, username="desk")


# --- Control characters: model validation ---------------------------------------------------------

SINGLE_LINE_FIELDS = [
    (ResourceType, "name"),
    (ResourceType, "color"),
    (Resource, "name"),
    (Resource, "timezone"),
    (Customer, "name"),
    (Customer, "email"),
    (Customer, "phone"),
    (ScheduleException, "reason"),
]
MULTI_LINE_FIELDS = [(Customer, "notes"), (Booking, "notes")]


@pytest.mark.parametrize(("model", "name"), SINGLE_LINE_FIELDS)
@pytest.mark.parametrize("value", SINGLE_LINE_REFUSED)
def test_a_single_line_field_refuses_every_control_character(model, name, value):
    with pytest.raises(ValidationError) as refused:
        model._meta.get_field(name).clean(value, model())
    assert "Control characters" in " ".join(refused.value.messages)


@pytest.mark.parametrize(("model", "name"), MULTI_LINE_FIELDS)
@pytest.mark.parametrize("value", MULTI_LINE_REFUSED)
def test_a_multi_line_field_refuses_control_characters_other_than_tab_and_line_breaks(model, name, value):
    with pytest.raises(ValidationError):
        model._meta.get_field(name).clean(value, model())


@pytest.mark.parametrize(("model", "name"), MULTI_LINE_FIELDS)
def test_a_multi_line_field_keeps_tabs_and_line_breaks(model, name):
    assert model._meta.get_field(name).clean("line 1\r\nline 2\n\tindented", model()) == "line 1\r\nline 2\n\tindented"


def test_plain_unicode_text_is_accepted():
    assert Resource._meta.get_field("name").clean("Sala Zielińska — 2 ☀", Resource()) == "Sala Zielińska — 2 ☀"


# --- Control characters: the API ---------------------------------------------------------------


@pytest.mark.parametrize("value", [HEADER_INJECTION, *SINGLE_LINE_REFUSED])
def test_the_api_refuses_a_resource_name_with_control_characters_naming_name(api, scene, value):
    before = snapshot()

    response = api.post(f"{API}/resource", {"name": value, "type": scene.type.pk}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("route", "field", "body"),
    [
        ("resource_type", "name", {"name": "Rooms\nBcc: x@example.com"}),
        ("customer", "name", {"name": HEADER_INJECTION, "email": "c@example.com"}),
        ("customer", "email", {"name": "C", "email": "c@example.com\r\nBcc: victim@example.com"}),
        ("customer", "phone", {"name": "C", "email": "c@example.com", "phone": "123\n456"}),
        ("customer", "notes", {"name": "C", "email": "c@example.com", "notes": "call\x1bback"}),
    ],
)
def test_the_api_refuses_control_characters_naming_the_field(api, scene, route, field, body):
    before = snapshot()

    response = api.post(f"{API}/{route}", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert snapshot() == before


def test_the_api_refuses_an_exception_reason_with_a_line_break(api, scene):
    body = {"resource": scene.spare.pk, "start_at": "2030-03-04T09:00:00Z", "end_at": "2030-03-04T10:00:00Z", "reason": "Leave\r\nX: y"}

    response = api.post(f"{API}/exception", body, format="json")

    assert response.status_code == 400 and list(response.json()) == ["reason"]


def test_the_api_refuses_a_renamed_resource_with_control_characters(api, scene):
    response = api.patch(f"{API}/resource/{scene.a.pk}", {"name": HEADER_INJECTION}, format="json")

    assert response.status_code == 400 and list(response.json()) == ["name"]
    scene.a.refresh_from_db()
    assert scene.a.name == "A"


def booking_body(scene, **extra) -> dict:
    return {"resource": scene.spare.pk, "customer": scene.customer.pk, "start_at": "2030-03-04T09:00:00Z",
            "end_at": "2030-03-04T10:00:00Z", "override_availability": True, **extra}  # fmt: skip


def test_booking_notes_keep_line_breaks_and_refuse_other_control_characters(api, scene):
    refused = api.post(f"{API}/booking", booking_body(scene, notes="a\x7fb"), format="json")
    accepted = api.post(f"{API}/booking", booking_body(scene, notes="line 1\r\nline 2\tend"), format="json")

    assert refused.status_code == 400 and list(refused.json()) == ["notes"]
    assert accepted.status_code == 201 and accepted.json()["notes"] == "line 1\r\nline 2\tend"


@pytest.mark.parametrize(
    ("field", "value"),
    [("start_at", "2030-03-04T09:00:00\x00Z"), ("start_at", "2030-03-04\x0009:00:00Z"), ("end_at", "2030-03-04T10:00:00Z\n")],
)
def test_a_datetime_holding_a_control_character_is_400_naming_it(api, scene, field, value):
    before = snapshot()

    response = api.post(f"{API}/booking", booking_body(scene, **{field: value}), format="json")

    assert response.status_code == 400 and list(response.json()) == [field]
    assert snapshot() == before


def test_a_datetime_holding_nul_is_400_in_questions_and_filters(api, scene):
    question = {"resource_id": scene.spare.pk, "start_at": "2030-03-04T09:00:00\x00Z", "end_at": "2030-03-04T10:00:00Z"}

    asked = api.post(f"{API}/booking/check_availability", question, format="json")
    listed = api.get(f"{API}/booking", {"start": "2030-03-04T09:00:00\x00Z"})
    slots = api.get(f"{API}/resource/{scene.a.pk}/slots", {"start": "2030-03-04\x0000:00Z", "end": "2030-03-05T00:00Z", "duration": 60})

    assert (asked.status_code, list(asked.json())) == (400, ["start_at"])
    assert (listed.status_code, list(listed.json())) == (400, ["start"])
    assert (slots.status_code, list(slots.json())) == (400, ["start"])


# --- Control characters: the admin ---------------------------------------------------------------


def test_the_admin_customer_form_refuses_a_name_with_a_line_break(client, staff_manager):
    client.force_login(staff_manager)

    response = client.post(reverse("admin:scheduling_customer_add"), {"name": HEADER_INJECTION, "email": "c@example.com"})

    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors
    assert not Customer.objects.exists()


def test_the_admin_resource_type_form_refuses_a_name_with_a_line_break(client, staff_manager):
    client.force_login(staff_manager)

    response = client.post(reverse("admin:scheduling_resourcetype_add"), {"name": "Rooms\nBcc: x@example.com", "color": "#112233"})

    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors


def test_the_admin_booking_form_refuses_control_characters_in_notes(client, staff_manager, resource, customer):
    client.force_login(staff_manager)
    data = {"resource": resource.pk, "customer": customer.pk, "status": "pending", "notes": "a\x1bb",
            "start_at_0": "2030-03-04", "start_at_1": "09:00", "end_at_0": "2030-03-04", "end_at_1": "10:00"}  # fmt: skip

    response = client.post(reverse("admin:scheduling_booking_add"), data)

    assert response.status_code == 200
    assert "notes" in response.context["adminform"].form.errors
    assert not Booking.objects.exists()


# --- metadata: bounds on every write path ---------------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "code"),
    [
        (nested(33), "too_deep"),
        (nested(900), "too_deep"),
        ({"a": [[[[nested(29)]]]]}, "too_deep"),
        ({"blob": "x" * METADATA_MAX_BYTES}, "too_large"),
        ({"a\x00": 1}, "nul_character"),
        (["x"], "not_an_object"),
    ],
    ids=["33-levels", "900-levels", "arrays-count", "over-16KiB", "nul", "not-an-object"],
)
def test_model_validation_bounds_metadata(metadata, code):
    with pytest.raises(ValidationError) as refused:
        Resource._meta.get_field("metadata").run_validators(metadata)
    assert [error.code for error in refused.value.error_list] == [code]


def test_metadata_of_32_levels_and_16_kib_is_accepted():
    field = Resource._meta.get_field("metadata")
    field.run_validators(nested(32))
    field.run_validators({"blob": "x" * (METADATA_MAX_BYTES - len('{"blob":""}'))})


@pytest.mark.parametrize("metadata", [nested(33), nested(900), {"blob": "ż" * (METADATA_MAX_BYTES // 2)}])
def test_the_api_refuses_metadata_out_of_bounds_naming_metadata(api, scene, metadata):
    before = snapshot()

    created = api.post(f"{API}/resource", {"name": "Deep", "type": scene.type.pk, "metadata": metadata}, format="json")
    patched = api.patch(f"{API}/resource/{scene.a.pk}", {"metadata": metadata}, format="json")

    assert (created.status_code, list(created.json())) == (400, ["metadata"])
    assert (patched.status_code, list(patched.json())) == (400, ["metadata"])
    assert snapshot() == before


def test_the_api_accepts_metadata_of_32_levels(api, scene):
    response = api.post(f"{API}/resource", {"name": "Deep", "type": scene.type.pk, "metadata": nested(32)}, format="json")

    assert response.status_code == 201 and response.json()["metadata"] == nested(32)


def admin_form_data(response) -> dict:
    """The fields of an admin add/change page as the browser would post them, inlines' management forms included."""
    data = {}
    forms = [response.context["adminform"].form]
    forms += [inline.formset.management_form for inline in response.context["inline_admin_formsets"]]
    for form in forms:
        for field in form:
            value = field.value()
            if value is True:
                data[field.html_name] = "on"
            elif value not in (None, False):
                data[field.html_name] = value
    return data


@pytest.mark.parametrize("text", [nested_text(33), nested_text(900), json.dumps({"blob": "x" * METADATA_MAX_BYTES})])
def test_the_admin_resource_form_shows_metadata_out_of_bounds_as_a_field_error(client, staff_manager, resource, text):
    client.force_login(staff_manager)
    page = reverse("admin:scheduling_resource_change", args=[resource.pk])
    data = {**admin_form_data(client.get(page)), "metadata": text}

    response = client.post(page, data)

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["metadata"]
    resource.refresh_from_db()
    assert resource.metadata == {}


# --- A row stored before the bounds: every page and answer stays up ------------------------------


@pytest.fixture
def deep_resource(resource):
    """A resource whose metadata nests 900 levels, written behind the model's back."""
    placeholder = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE scheduling_resource SET metadata = {placeholder} WHERE id = %s", [nested_text(900), resource.pk])
    return resource


def test_a_stored_metadata_too_deep_reads_as_the_placeholder(deep_resource):
    assert Resource.objects.get(pk=deep_resource.pk).metadata == unreadable_metadata()
    assert Resource.objects.filter(pk=deep_resource.pk).values_list("metadata", flat=True).get() == unreadable_metadata()


def test_admin_pages_answer_on_a_stored_metadata_too_deep(client, staff_manager, deep_resource, customer):
    booking = BookingFactory(resource=deep_resource, customer=customer)
    AvailabilityFactory(resource=deep_resource)
    client.force_login(staff_manager)
    pages = [
        reverse("admin:scheduling_resource_changelist"),
        reverse("admin:scheduling_resource_change", args=[deep_resource.pk]),
        reverse("admin:scheduling_booking_add"),
        reverse("admin:scheduling_booking_change", args=[booking.pk]),
        reverse("admin:scheduling_availability_add"),
        reverse("admin:scheduling_booking_changelist"),
    ]

    statuses = {page: client.get(page).status_code for page in pages}

    assert statuses == dict.fromkeys(pages, 200)
    change_page = client.get(reverse("admin:scheduling_resource_change", args=[deep_resource.pk])).content.decode()
    assert UNREADABLE_METADATA_KEY in change_page


def test_the_api_answers_a_stored_metadata_too_deep_with_the_placeholder(api, scene):
    with connection.cursor() as cursor:
        placeholder = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
        cursor.execute(f"UPDATE scheduling_resource SET metadata = {placeholder} WHERE id = %s", [nested_text(900), scene.a.pk])

    one = api.get(f"{API}/resource/{scene.a.pk}")
    listed = api.get(f"{API}/resource")
    renamed = api.patch(f"{API}/resource/{scene.a.pk}", {"name": "A2"}, format="json")

    assert one.status_code == 200 and one.json()["metadata"] == unreadable_metadata()
    assert listed.status_code == 200
    assert renamed.status_code == 200
    # The first save repairs the row: the placeholder replaces what could not be read.
    assert json.loads(raw_metadata(scene.a.pk)) == unreadable_metadata()


def raw_metadata(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT metadata FROM scheduling_resource WHERE id = %s", [pk])
        value = cursor.fetchone()[0]
    return value if isinstance(value, str) else json.dumps(value)


def test_an_ordinary_customer_is_unaffected(api, scene):
    CustomerFactory(name="Tab-free")
    assert api.get(f"{API}/customer").status_code == 200
