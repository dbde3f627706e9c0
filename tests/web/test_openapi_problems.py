"""The OpenAPI document declares the problem+json answers the API gives for errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from digipersona.web.problems import API_ERRORS

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_api_operation_declares_its_problem_answers(app: Any) -> None:
    document = app.openapi()
    operations = [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
    ]
    assert len(operations) > 90
    for method, path, operation in operations:
        for status in API_ERRORS:
            declared = operation["responses"][status]
            if (method, path, status) == ("GET", "/api/v1/integrations/{platform}/callback", "400"):
                assert "text/html" in declared["content"]  # a browser lands there
                continue
            assert declared["content"] == PROBLEM, (method, path, status)
    assert "HTTPValidationError" not in json.dumps(document)
    problem = document["components"]["schemas"]["ProblemDetails"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_422_answer_is_a_problem_document(client: Any) -> None:
    r = client.post("/api/v1/auth/login", json={"email": "not an email"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert {"type", "title", "status", "detail", "errors"} <= set(r.json())
