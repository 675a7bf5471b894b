"""Schemathesis against the live schema, in process through the WSGI app (no network, no server).

For every operation it sends schema-conforming and schema-violating requests as a superuser (who
reaches every branch) and checks: no 5xx, every status and content type documented, every body
valid against its schema. Path ids are drawn half the time from rows that exist, so the detail
routes, the transitions and the slots are exercised beyond 404. Bounded in examples so the whole
run takes seconds; SCHEMATHESIS_EXAMPLES raises it for a deeper local run.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from scheduling.models import Availability, Booking, Customer, Resource, ResourceType, ScheduleException
from scheduling.tests.factories import build_scene, client_for, staff

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "10"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
# Not checked: negative_data_rejection. DRF is lenient by convention (page_size=x falls back to the
# default, "5" is a valid integer, an empty filter is no filter); such requests get a 2xx, which is
# neither a server error nor a response outside the schema.
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
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
# One pytest item per operation and mode, so that pytest-xdist spreads them over its workers.
# Schema-violating requests need something to violate: a body or query parameters (a path id
# alone has no invalid value that still routes).
CASES = [
    pytest.param(operation, mode, id=f"{operation.label} {mode.value}")
    for operation in (result.ok() for result in schema.get_all_operations())
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or len(operation.query) or len(operation.body)
]


@pytest.mark.slow
@pytest.mark.parametrize(("operation", "mode"), CASES)
def test_the_api_keeps_its_schema_and_never_answers_5xx(operation, mode, superuser_headers):
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
    def exchange(case):
        case.call_and_validate(headers=superuser_headers, checks=CHECKS)

    exchange()
