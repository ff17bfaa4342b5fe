"""The OpenAPI document says what the app really returns: named errors as `{"error": message}`.

FastAPI documents a 422 for every operation, which this app never sends (validation errors are
400s with a message); `install` replaces it with the error responses the app does send.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERRORS = {
    "400": "Invalid input: the message says which parameter and why",
    "401": "Needs an account (a session cookie or a personal token)",
    "403": "Not allowed, or a missing/invalid CSRF token",
    "404": "No such paper, comment or resource",
    "409": "Conflicts with what is there (e.g. already listed)",
    "413": "Request body too large",
    "429": "Rate limit or daily cap reached",
}
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {"error": {"type": "string", "description": "What went wrong, for people"}},
    "required": ["error"],
}


def install(app: FastAPI) -> None:
    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            document.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
            for item in document.get("paths", {}).values():
                for operation in item.values():
                    responses = operation.setdefault("responses", {})
                    responses.pop("422", None)
                    for status, text in ERRORS.items():
                        responses.setdefault(status, {"description": text, "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})  # fmt: skip
            for name in ("HTTPValidationError", "ValidationError"):
                document["components"]["schemas"].pop(name, None)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = schema  # type: ignore[method-assign]
