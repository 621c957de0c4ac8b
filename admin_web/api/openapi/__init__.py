"""The OpenAPI 3.1 document of /api/v1, served at /api/v1/openapi.json, built from the
endpoints' own declarations (`admin_web.api.declare`): the request and answer models'
JSON Schemas (pydantic; an answer may be any type pydantic describes, a dataclass too),
each query model's fields as parameters, the answers and the errors. Nothing here is
written by hand but the words of the introduction."""

from __future__ import annotations

from functools import cache
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from admin_web.api.answers import ERROR_CODES, Error
from admin_web.api.declare import Api, Endpoint

S = dict[str, Any]
REF = "#/components/schemas/{model}"
ERRORS = {
    401: "No valid API key",
    403: "Not allowed",
    404: "Not found, or not visible to the key's user",
    409: "The state forbids it",
    422: "Invalid input; `fields` names each offending field",
}


def _models(apis: list[Api]) -> list[tuple[Any, JsonSchemaMode]]:
    wanted: dict[tuple[Any, JsonSchemaMode], None] = {(Error, "serialization"): None}
    for endpoint in (e for api in apis for e in api.endpoints):
        if endpoint.body is not None:
            wanted[(endpoint.body, "validation")] = None
        if endpoint.query is not None:
            wanted[(endpoint.query, "validation")] = None
        for model in endpoint.answers.values():
            if model is not None:
                wanted[(model, "serialization")] = None
    return list(wanted)


def _without_null(schema: S) -> S:
    """A query parameter's schema: a value is given or the parameter is left out."""
    branches = [b for b in schema.get("anyOf", []) if b != {"type": "null"}]
    if len(branches) == 1 and "anyOf" in schema:
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        return {**rest, **branches[0]}
    return {k: v for k, v in schema.items() if k != "default" or v is not None}


def _operation(endpoint: Endpoint, tag: str, schemas: dict[Any, S], components: S) -> S:
    parameters: list[S] = []
    if "{id}" in endpoint.path:
        parameters.append(
            {
                "name": "id",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
            }
        )
    if endpoint.query is not None:
        ref = schemas[(endpoint.query, "validation")]["$ref"]
        query = components.pop(ref.rsplit("/", 1)[1])  # its fields are the parameters
        required = set(query.get("required", []))
        for name, schema in query.get("properties", {}).items():
            parameter: S = {"name": name, "in": "query", "schema": _without_null(schema)}
            if name in required:
                parameter["required"] = True
            if "description" in schema:
                parameter["description"] = schema["description"]
            parameters.append(parameter)
    responses: S = {}
    for status, model in endpoint.answers.items():
        answer: S = {"description": "OK" if status < 300 else "Done"}
        if model is not None:
            answer["content"] = {"application/json": {"schema": schemas[(model, "serialization")]}}
        responses[str(status)] = answer
    error = {"application/json": {"schema": schemas[(Error, "serialization")]}}
    for status in sorted({401, 404, 422, *endpoint.errors}):
        responses[str(status)] = {"description": ERRORS[status], "content": error}
    operation: S = {
        "summary": endpoint.summary,
        "operationId": endpoint.handler.__name__,
        "tags": [tag],
        "parameters": parameters,
        "responses": responses,
    }
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": not endpoint.optional_body,
            "content": {"application/json": {"schema": schemas[(endpoint.body, "validation")]}},
        }
    return operation


def build(apis: list[Api]) -> S:
    """The document of these endpoints."""
    inputs = [(kind, mode, TypeAdapter(kind)) for kind, mode in _models(apis)]
    schemas, defs = TypeAdapter.json_schemas(inputs, ref_template=REF)
    components = defs.get("$defs", {})
    detail = components.get("ErrorDetail", {}).get("properties", {})
    if "code" in detail:
        detail["code"]["enum"] = ERROR_CODES
    paths: dict[str, S] = {}
    for api in apis:
        for endpoint in api.endpoints:
            operation = _operation(endpoint, api.tag, schemas, components)
            paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "crmhub API",
            "version": "1",
            "description": "Clients, interests, interactions and conversations. Every key "
            "acts as one user, with that user's rights. "
            "Errors: `{error: {code, message, fields}}`; a `duplicate` names the `client_id` "
            "that already has the identity.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"apiKey": []}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": components,
        },
        "paths": paths,
    }


@cache
def document() -> S:
    from admin_web.api.routes import APIS

    return build(APIS)


routes = web.RouteTableDef()


@routes.get("/api/v1/openapi.json")
async def openapi(request: web.Request) -> web.StreamResponse:
    return web.json_response(document())
