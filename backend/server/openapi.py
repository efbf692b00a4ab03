"""Provides `refine`, which makes the generated OpenAPI document say what the server really
answers: errors are `application/problem+json` (RFC 9457), authenticated operations declare the
bearer scheme and their 401, operations with a body their 400 (malformed), 413 (too large) and
415 (not UTF-8), and every API operation its 503 (storage unavailable)."""

from __future__ import annotations

from typing import Any

from api_client.models.common import Problem

PUBLIC = {
    ("post", "/api/v1/auth/login"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_METHODS = {"get", "put", "post", "patch", "delete"}
_ADDED = {
    "400": "Malformed request: the Idempotency-Key is missing or unusable, or the body cannot "
    "be parsed at all (a body that is not JSON is a 422 naming `body`)",
    "401": "Authentication required, or the token expired or was revoked",
    "413": "Request body too large",
    "415": "The JSON body is not UTF-8 (RFC 8259)",
    "503": "Storage unavailable (disk full or database busy); retry later",
}


_INVALID = (
    "The request is not valid: a parameter or a body field fails the schema (each named in "
    "`errors`), or a rule beyond the schema refuses it: an ID number's check character, a "
    "cursor, version or event id this API did not give out, a case compared or merged with "
    "itself, an appointment outside the bookable days"
)


def refine(document: dict[str, Any]) -> dict[str, Any]:
    """Document problem+json errors, the bearer scheme, 401, 400/413 and 503 (idempotent)."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            wanted = []
            if (method, path) not in PUBLIC:
                operation["security"] = [{"bearer": []}]
                wanted.append("401")
            if "requestBody" in operation:
                wanted += ["400", "413", "415"]
            if path.startswith("/api/"):
                wanted.append("503")
            for status in wanted:
                responses.setdefault(status, {"description": _ADDED[status]})
            if "422" in responses:
                responses["422"]["description"] = _INVALID
            if "428" in responses:  # it refuses a change without If-Match: the header is required
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") == "header" and parameter.get("name") == "If-Match":
                        parameter["required"] = True
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = {"application/problem+json": {"schema": PROBLEM_REF}}
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document
