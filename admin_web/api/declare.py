"""How an /api/v1 endpoint declares itself, once, for both the server and the document.

    api = Api("clients")                       # one per module; its tag in the document

    @api.post("/clients", "Create a client", body=ClientInput, query=OnDuplicate,
              answers={201: Client, 200: Client}, errors=(409,))
    async def create_client(call: Call[ClientInput, OnDuplicate]) -> web.StreamResponse:
        call.user, call.body, call.query, call.id   # the key's user, the checked values

Before the handler runs: the API key is checked (401), the path's `{id}` read (404 past
int32), the query string read into the `query` model and the JSON body into the `body`
model (422 naming every offending field, in the caller's language; a body is required
when a `body` model is given and not `optional_body`). The handler returns its answer
(`json(...)`). `openapi.document()` is built from the same declarations: the models'
JSON Schemas, the answers, and 401/404/422 plus the `errors` given, each an `Error`."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from admin_web.api.base import api_user, match_id
from admin_web.security import INVALID_TEXT
from crm.errors import ValidationFailed
from crm.i18n import N_, Text
from crm.models import User
from crm.normalize import storable

B = TypeVar("B", bound=BaseModel | None)
Q = TypeVar("Q", bound=BaseModel | None)


@dataclass(frozen=True)
class Call(Generic[B, Q]):
    """One checked request: who calls, the path's id (0 when it has none), the body and
    the query as their models read them (None when the endpoint declares none)."""

    request: web.Request
    user: User
    id: int
    body: B
    query: Q


Handler = Callable[[Call[Any, Any]], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as the document writes it, under /api/v1: "/clients/{id}"
    summary: str
    handler: Handler
    body: type[BaseModel] | None
    optional_body: bool
    query: type[BaseModel] | None
    answers: Mapping[
        int, Any
    ]  # status -> the type of its JSON (a model, a dataclass...; None: no body)
    errors: tuple[int, ...]


@dataclass
class Api:
    """The endpoints of one module; `routes` mounts them, `endpoints` documents them."""

    tag: str
    endpoints: list[Endpoint] = field(default_factory=list)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.route(e.method, "/api/v1" + e.path.replace("{id}", r"{id:\d+}"), _serve(e))
            for e in self.endpoints
        ]

    def _declare(
        self,
        method: str,
        path: str,
        summary: str,
        *,
        answers: Mapping[int, Any],
        body: type[BaseModel] | None = None,
        optional_body: bool = False,
        query: type[BaseModel] | None = None,
        errors: tuple[int, ...] = (),
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(
                    method, path, summary, handler, body, optional_body, query, answers, errors
                )
            )
            return handler

        return register

    def get(self, path: str, summary: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self._declare("GET", path, summary, **kw)

    def post(self, path: str, summary: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self._declare("POST", path, summary, **kw)

    def patch(self, path: str, summary: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self._declare("PATCH", path, summary, **kw)

    def delete(self, path: str, summary: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self._declare("DELETE", path, summary, **kw)


def json(data: BaseModel | Mapping[str, Any], status: int = 200) -> web.StreamResponse:
    """An answer's JSON (a model is written as its JSON mode gives it)."""
    if isinstance(data, BaseModel):
        return web.json_response(data.model_dump(mode="json"), status=status)
    return web.json_response(data, status=status)


def _serve(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        user = await api_user(request)
        ident = match_id(request) if "{id}" in endpoint.path else 0
        query = _read_query(endpoint.query, request) if endpoint.query else None
        body = await _read_body(endpoint, request) if endpoint.body else None
        return await endpoint.handler(Call(request, user, ident, body, query))

    serve.__name__ = endpoint.handler.__name__
    return serve


def _read_query(model: type[BaseModel], request: web.Request) -> BaseModel:
    values: dict[str, str] = {}
    errors: dict[str, str | Text] = {}
    for field_name, info in model.model_fields.items():
        key = info.alias or field_name  # "from" is a word Python keeps: `from_` aliased
        given = request.query.getall(key, [])
        if len(given) > 1:
            errors[key] = N_("Give it once")
        elif given:
            values[key] = given[0]
    if errors:
        raise ValidationFailed(fields=errors)
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise refused(exc) from None


async def _read_body(endpoint: Endpoint, request: web.Request) -> BaseModel | None:
    assert endpoint.body is not None
    raw = await request.read()
    if not raw.strip():
        if endpoint.optional_body:
            return endpoint.body()
        raise ValidationFailed.field("body", N_("Send a JSON object"))
    try:
        return endpoint.body.model_validate_json(raw)
    except ValidationError as exc:
        raise refused(exc, _unstorable(raw)) from None


def _unstorable(raw: bytes) -> dict[str, str | Text]:
    """The fields of a JSON body holding text no database stores (a lone surrogate, which
    JSON can escape and pydantic refuses as invalid JSON; NUL): named, not "bad JSON"."""
    try:
        data = jsonlib.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    found: dict[str, str | Text] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, str) and not storable(value):
            found[path or "body"] = Text(INVALID_TEXT)
        elif isinstance(value, dict):
            for key, item in value.items():
                name = key if storable(key) else "?"
                walk(item, f"{path}.{name}" if path else name)
                if name == "?":
                    found[path or "body"] = Text(INVALID_TEXT)
        elif isinstance(value, list):
            for item in value:
                walk(item, path)

    try:
        walk(data, "")
    except RecursionError:  # nested past what anyone sends: pydantic's own refusal stands
        return {}
    return found


# What each kind of pydantic error says, in the API's own (translated) words.
MESSAGES: dict[str, str] = {
    "missing": N_("Required"),
    "extra_forbidden": N_("Unknown field"),
    "string_type": N_("A text expected"),
    "int_type": N_("A positive whole number expected"),
    "bool_type": N_("true or false expected"),
    "bool_parsing": N_("true or false expected"),
    "float_type": N_("A number expected"),
    "dict_type": N_("An object expected"),
    "model_type": N_("An object expected"),
    "model_attributes_type": N_("An object expected"),
    "list_type": N_("A list expected"),
    "literal_error": N_("Unknown choice"),
    "enum": N_("Unknown choice"),
    "date_type": N_("A date (YYYY-MM-DD) expected"),
    "date_from_datetime_parsing": N_("A date (YYYY-MM-DD) expected"),
    "date_parsing": N_("A date (YYYY-MM-DD) expected"),
    "datetime_type": N_("A date and time (ISO 8601) expected"),
    "datetime_parsing": N_("A date and time (ISO 8601) expected"),
    "datetime_from_date_parsing": N_("A date and time (ISO 8601) expected"),
    "timezone_aware": N_("A time zone is required"),
    "json_invalid": N_("Send a JSON object"),
}
RANGE = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
LENGTH = {"string_too_long", "string_too_short", "too_long", "too_short"}


def refused(
    exc: ValidationError, known: Mapping[str, str | Text] | None = None
) -> ValidationFailed:
    """A pydantic refusal as the API's 422: each field (dotted path) with its message
    (`known`: the fields already found wrong, for a body pydantic could not read)."""
    errors: dict[str, str | Text] = dict(known or {})
    for error in exc.errors():
        loc = [str(part) for part in error["loc"] if not _union_branch(part)]
        if "[key]" in loc:  # a key of a mapping: the mapping is named
            loc = loc[: max(loc.index("[key]") - 1, 0)]
            error["type"] = "extra_forbidden"
        key = ".".join(loc) or "body"
        kind = error["type"]
        if kind == "json_invalid" and errors:
            continue
        if kind == "json_invalid" or (not loc and kind in ("model_type", "dict_type")):
            key, message = "body", Text(N_("Send a JSON object"))
        elif kind in RANGE:
            message = Text(N_("Out of range"))
        elif kind == "string_too_long":
            limit = (error.get("ctx") or {}).get("max_length", 0)
            message = Text(N_("Text of at most {n} characters expected"), n=limit)
        elif kind in LENGTH:
            message = Text(N_("Too long") if "long" in kind else N_("Required"))
        elif kind == "string_pattern_mismatch":
            message = Text(_pattern_message(error.get("input")))
        else:
            message = Text(MESSAGES.get(kind, N_("Invalid value")))
        errors.setdefault(key[:200], message)
    return ValidationFailed(fields=errors)


def _pattern_message(value: object) -> str:
    if isinstance(value, str) and not storable(value):
        return INVALID_TEXT
    if isinstance(value, str) and not value.strip():
        return N_("Required")
    return N_("Invalid format")


def _union_branch(part: object) -> bool:
    """pydantic names the branch of a union it tried (`int`, `constrained-str`,
    `function-after[...]`, a model's name) in the error's location: not a field of the
    request (the models' fields are snake_case, the mappings' keys digits)."""
    text = str(part)
    if text == "[key]":
        return False
    return (
        text in ("int", "float", "str", "bool", "none")
        or "-" in text
        or "[" in text
        or text[:1].isupper()
    )
