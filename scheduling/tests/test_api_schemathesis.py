"""Schemathesis against the live schema, in process through the WSGI app (no network, no server).

For every operation it sends schema-conforming and schema-violating requests as a superuser (who
reaches every branch): the schema's examples, its boundaries (the coverage phase: 0, empty values,
missing fields, other content types) and fuzzed values, and runs every check: no 5xx, every status,
content type, header and body as documented, schema-valid requests accepted and schema-violating
ones refused. The configuration is schemathesis.toml at the root, shared with a run against a live
server; the few exemptions it names are listed with their reason in docs/spec.md §6.9. Path ids are
drawn half the time from rows that exist, so the detail routes, the transitions and the slots are
exercised beyond 404. Bounded in examples so the run stays short; SCHEMATHESIS_EXAMPLES deepens it.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from scheduling.models import Availability, Booking, Customer, Resource, ResourceType, ScheduleException
from scheduling.tests.factories import build_scene, client_for, staff

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "10"))
KNOWN_IDS: dict[str, list[int]] = {}


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    path = context.operation.path if context.operation else ""
    known = next((ids for prefix, ids in KNOWN_IDS.items() if f"/{prefix}/" in path), None)
    if not path_parameters or "id" not in path_parameters or not known:
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), st.sampled_from(known).map(lambda pk: {**path_parameters, "id": pk}))


@pytest.fixture
def keep_the_test_connection():
    """The WSGI handler closes the database connection after each request, which would end the
    test's transaction; Django's own test client disconnects the same receiver."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def superuser_headers(db, keep_the_test_connection):
    build_scene()
    for prefix, model in (
        ("resource_type", ResourceType),
        ("resource", Resource),
        ("customer", Customer),
        ("booking", Booking),
        ("availability", Availability),
        ("exception", ScheduleException),
    ):
        KNOWN_IDS[prefix] = list(model.objects.values_list("pk", flat=True))
    client = client_for(staff(username="fuzzer", is_superuser=True))
    return {"Authorization": client._credentials["HTTP_AUTHORIZATION"]}


# Loaded when the module is collected: the schema view needs no database.
CONFIG = SchemathesisConfig.from_path(django_settings.BASE_DIR / "schemathesis.toml")
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=CONFIG)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
def test_the_api_keeps_its_schema_both_ways_and_never_answers_5xx(case, superuser_headers):
    # No explicit checks: schemathesis.toml turns every one on and names the operations exempt from one.
    case.call_and_validate(headers=superuser_headers)
