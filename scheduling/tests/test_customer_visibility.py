"""Customers of a user whose only rights are per-resource grants (docs/spec.md §6.3, §6.6, §7, §8.7):
those booked on a resource they may book, and those they registered; any other one only by its
exact e-mail address, one at a time. No customer list, admin search or form choice reaches further."""

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm, remove_perm

from scheduling.models import Customer
from scheduling.permissions import can, restrict
from scheduling.tests.factories import API, at, client_for, iso
from scheduling.tests.factories import BookingFactory, CustomerFactory, ResourceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def olga(scene):
    """Booked on B only: a stranger to the holder of the grant on A."""
    customer = CustomerFactory(name="Olga", email="olga@example.com", phone="+48 600 000 000")
    BookingFactory(resource=scene.b, customer=customer, start_at=at(14), end_at=at(15))
    return customer


def names(response) -> set[str]:
    return {c["name"] for c in response.json()["results"]}


# --- API ---------------------------------------------------------------------------------------------


def test_a_grant_holder_lists_the_customers_booked_on_their_resources_and_those_they_registered(scene, a_booker, olga):
    client = client_for(a_booker)

    registered = client.post(f"{API}/customer", {"name": "Dora", "email": "dora@example.com"})
    listed = client.get(f"{API}/customer")

    assert registered.status_code == 201
    assert Customer.objects.get(pk=registered.json()["id"]).created_by == a_booker
    assert names(listed) == {"Carla", "Dora"}  # not Olga (booked on B), not Nobody (no booking)
    assert client.get(f"{API}/customer/{registered.json()['id']}").status_code == 200


@pytest.mark.parametrize("stranger", ["olga", "spare_customer"])
def test_any_other_customer_is_404_to_a_grant_holder(scene, a_booker, olga, stranger):
    customer = olga if stranger == "olga" else scene.spare_customer

    response = client_for(a_booker).get(f"{API}/customer/{customer.pk}")

    assert response.status_code == 404 and "olga" not in response.content.decode()


def test_a_grant_holder_finds_one_customer_by_the_exact_address_case_insensitively(scene, a_booker, olga):
    client = client_for(a_booker)

    exact = client.get(f"{API}/customer", {"email": "OLGA@Example.com"})
    partial = client.get(f"{API}/customer", {"email": "olga@example"})
    domain = client.get(f"{API}/customer", {"email": "example.com"})

    assert [(c["id"], c["email"]) for c in exact.json()["results"]] == [(olga.pk, "olga@example.com")]
    assert partial.json()["count"] == domain.json()["count"] == 0


def test_the_lookup_by_address_answers_a_grant_holder_at_most_one_customer_preferring_a_visible_one(scene, a_booker):
    CustomerFactory(name="Old twin", email="twin@example.com")
    seen = CustomerFactory(name="Seen twin", email="Twin@example.com", created_by=a_booker)
    CustomerFactory(name="Other twin", email="twin@example.com")

    found = client_for(a_booker).get(f"{API}/customer", {"email": "twin@example.com"}).json()["results"]

    assert [c["id"] for c in found] == [seen.pk]


def test_for_a_model_wide_viewer_the_address_is_an_exact_filter(scene, manager, olga):
    CustomerFactory(name="Olga's twin", email="Olga@Example.com")

    response = client_for(manager).get(f"{API}/customer", {"email": "olga@example.com"})

    assert names(response) == {"Olga", "Olga's twin"}


def test_a_grant_holder_books_a_customer_found_by_address_and_then_sees_them(scene, a_booker, olga):
    client = client_for(a_booker)
    found = client.get(f"{API}/customer", {"email": "olga@example.com"}).json()["results"][0]

    booked = client.post(f"{API}/booking", {"resource": scene.a.pk, "customer": found["id"], "start_at": iso(at(13)), "end_at": iso(at(14))})

    assert booked.status_code == 201
    assert client.get(f"{API}/customer/{olga.pk}").status_code == 200


def test_a_holder_whose_grants_were_revoked_no_longer_sees_whom_they_registered(scene, a_booker):
    registered = CustomerFactory(name="Dora", created_by=a_booker)
    remove_perm("book_resource", a_booker, scene.a)

    assert client_for(a_booker).get(f"{API}/customer/{registered.pk}").status_code == 404


def test_can_view_a_customer_exactly_when_restrict_shows_them(scene, a_booker, olga):
    registered = CustomerFactory(created_by=a_booker)
    visible = set(restrict(a_booker, Customer.objects.all()))

    verdicts = {c: can(a_booker, "view", c) for c in Customer.objects.all()}

    assert visible == {scene.customer, registered}
    assert {c for c, allowed in verdicts.items() if allowed} == visible


# --- Admin -------------------------------------------------------------------------------------------


@pytest.fixture
def desk(db):
    """Staff in no group, with the booking grant on "A", where Carla is booked; Olga is booked on B."""
    user = UserFactory(username="desk", is_staff=True)
    a, b = ResourceFactory(name="A"), ResourceFactory(name="B")
    assign_perm("book_resource", user, a)
    BookingFactory(resource=a, customer=CustomerFactory(name="Carla", email="carla@example.com"))
    BookingFactory(resource=b, customer=CustomerFactory(name="Olga", email="olga@example.com"))
    CustomerFactory(name="Nobody", email="nobody@example.com")
    return user


def changelist(model_name: str, **query) -> str:
    url = reverse(f"admin:scheduling_{model_name}_changelist")
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def listed(response) -> list:
    return list(response.context["cl"].result_list)


def test_the_admin_customer_list_and_its_search_stop_at_the_grant_holders_customers(client, desk):
    client.force_login(desk)

    everyone = listed(client.get(changelist("customer")))
    by_address = listed(client.get(changelist("customer", q="olga@example.com")))
    by_domain = listed(client.get(changelist("customer", q="example.com")))
    bookings_by_address = listed(client.get(changelist("booking", q="olga@example.com")))

    assert [c.name for c in everyone] == [c.name for c in by_domain] == ["Carla"]
    assert by_address == bookings_by_address == []


def test_another_customers_admin_page_answers_like_a_missing_one(client, desk):
    client.force_login(desk)
    olga = Customer.objects.get(name="Olga")

    invisible = client.get(reverse("admin:scheduling_customer_change", args=[olga.pk]))
    missing = client.get(reverse("admin:scheduling_customer_change", args=[999999]))

    assert invisible.status_code == missing.status_code == 302
    assert invisible["Location"] == missing["Location"]


def test_the_booking_forms_customer_choices_are_the_grant_holders_customers(client, desk):
    client.force_login(desk)

    form = client.get(reverse("admin:scheduling_booking_add")).context["adminform"].form

    assert [c.name for c in form.fields["customer"].queryset] == ["Carla"]


def test_a_customer_added_in_the_admin_records_who_registered_them(client, desk):
    client.force_login(desk)

    response = client.post(reverse("admin:scheduling_customer_add"), {"name": "Dora", "email": "dora@example.com", "phone": "", "notes": ""})

    assert response.status_code == 302
    dora = Customer.objects.get(name="Dora")
    assert dora.created_by == desk
    assert "Dora" in [c.name for c in listed(client.get(changelist("customer")))]
