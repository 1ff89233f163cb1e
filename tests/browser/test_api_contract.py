"""Schemathesis against the live server: generated requests for every operation
of /api/v1/schema/, a bounded number each. No server error, and every response
conforms to the schema (status code, content type, body)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.browser

EXAMPLES_PER_OPERATION = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def operations(live_url):
    schema = schemathesis.openapi.from_url(f"{live_url}/api/v1/schema/?format=json")
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_is_covered(live_url):
    found = {f"{op.method.upper()} {op.path}" for op in operations(live_url)}
    assert "GET /api/v1/initiatives/" in found
    assert "GET /api/v1/collectivities/{code}/" in found
    assert len(found) == 18


def test_api_conforms_to_its_schema(live_url):
    for operation in operations(live_url):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case):
            case.call_and_validate(checks=CHECKS)

        check()
