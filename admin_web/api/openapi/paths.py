"""The operations of the /api/v1 document: every path with its parameters, request body
and answers (the errors each can give included)."""

from __future__ import annotations

from admin_web.api.openapi.schemas import CLIENT_FIELDS, ID, S, nullable, obj, ref, text


def page_of(name: str) -> S:
    return obj(
        {
            "items": {"type": "array", "items": ref(name)},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "has_more": {"type": "boolean"},
        },
        ["items", "page", "per_page", "has_more"],
    )


def list_of(name: str) -> S:
    return obj({"items": {"type": "array", "items": ref(name)}}, ["items"])


def answer(status: int, schema: S | None, description: str = "OK") -> dict[str, S]:
    if schema is None:
        return {str(status): {"description": description}}
    return {
        str(status): {
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


ERRORS = {
    str(code): {"description": text_, "content": {"application/json": {"schema": ref("Error")}}}
    for code, text_ in (
        (401, "No valid API key"),
        (403, "Not allowed"),
        (404, "Not found, or not visible to the key's user"),
        (409, "The state forbids it"),
        (422, "Invalid input; `fields` names each offending field"),
    )
}
PAGE_PARAMS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100000}},
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
    },
]
PATH_ID = [{"name": "id", "in": "path", "required": True, "schema": ID}]


def op(
    summary: str,
    ok: dict[str, S],
    *,
    params: list[S] | None = None,
    body: S | None = None,
    tag: str,
) -> S:
    operation: S = {
        "summary": summary,
        "tags": [tag],
        "parameters": params or [],
        "responses": {**ok, **ERRORS},
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return operation


EMPTY: S = obj({}, additionalProperties=False)


def paths() -> S:
    """Every path of /api/v1 with its operations."""
    client_query = [
        {
            "name": "q",
            "in": "query",
            "schema": text(200),
            "description": "name, INN, phone or email",
        },
        {"name": "tag_id", "in": "query", "schema": ID},
        {"name": "responsible_id", "in": "query", "schema": ID},
        {"name": "relation_type", "in": "query", "schema": CLIENT_FIELDS["relation_type"]},
        {"name": "kind", "in": "query", "schema": CLIENT_FIELDS["kind"]},
    ]
    return {
        "/clients": {
            "get": op(
                "Find clients",
                answer(200, page_of("Client")),
                params=client_query + PAGE_PARAMS,
                tag="clients",
            ),
            "post": op(
                "Create a client",
                answer(201, ref("Client"), "Created"),
                body=ref("ClientInput"),
                tag="clients",
            ),
        },
        "/clients/{id}": {
            "get": op(
                "A client with its custom fields",
                answer(200, ref("Client")),
                params=PATH_ID,
                tag="clients",
            ),
            "patch": op(
                "Change a client",
                answer(200, ref("Client")),
                params=PATH_ID,
                body=ref("ClientChanges"),
                tag="clients",
            ),
            "delete": op(
                "Delete a client (admins)",
                answer(204, None, "Deleted"),
                params=PATH_ID,
                tag="clients",
            ),
        },
        "/fields": {
            "get": op("Custom client fields", answer(200, list_of("Field")), tag="clients")
        },
        "/interests": {
            "get": op(
                "Interests (deals)",
                answer(200, page_of("Interest")),
                params=[
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["open", "won", "lost"]},
                    },
                    {"name": "client_id", "in": "query", "schema": ID},
                    *PAGE_PARAMS,
                ],
                tag="interests",
            ),
            "post": op(
                "Open an interest",
                answer(201, ref("Interest"), "Created"),
                body=ref("InterestInput"),
                tag="interests",
            ),
        },
        "/interests/{id}": {
            "get": op("An interest", answer(200, ref("Interest")), params=PATH_ID, tag="interests")
        },
        "/interests/{id}/move": {
            "post": op(
                "Move to a stage",
                answer(200, ref("Interest")),
                params=PATH_ID,
                body=obj({"stage_id": ID}, ["stage_id"], additionalProperties=False),
                tag="interests",
            )
        },
        "/interests/{id}/win": {
            "post": op(
                "Mark won",
                answer(200, ref("Interest")),
                params=PATH_ID,
                body=EMPTY,
                tag="interests",
            )
        },
        "/interests/{id}/lose": {
            "post": op(
                "Mark lost with a reason",
                answer(200, ref("Interest")),
                params=PATH_ID,
                body=obj({"reason_id": ID}, ["reason_id"], additionalProperties=False),
                tag="interests",
            )
        },
        "/interactions": {
            "get": op(
                "The feed of a client or an interest",
                answer(200, list_of("Interaction")),
                params=[
                    {"name": "client_id", "in": "query", "schema": ID},
                    {"name": "interest_id", "in": "query", "schema": ID},
                ],
                tag="interactions",
            ),
            "post": op(
                "Plan an interaction",
                answer(201, ref("Interaction"), "Planned"),
                body=ref("Plan"),
                tag="interactions",
            ),
        },
        "/interactions/{id}/complete": {
            "post": op(
                "Complete, and plan the next one",
                answer(
                    200,
                    obj(
                        {"done": ref("Interaction"), "next": nullable(ref("Interaction"))},
                        ["done", "next"],
                    ),
                ),
                params=PATH_ID,
                body=obj(
                    {"result": nullable(text(4000)), "next": {"type": "object", "nullable": True}},
                    additionalProperties=False,
                ),
                tag="interactions",
            )
        },
        "/interactions/{id}/cancel": {
            "post": op(
                "Cancel (restorable)",
                answer(200, ref("Interaction")),
                params=PATH_ID,
                body=EMPTY,
                tag="interactions",
            )
        },
        "/conversations": {
            "get": op(
                "Conversations",
                answer(200, page_of("Conversation")),
                params=PAGE_PARAMS,
                tag="conversations",
            )
        },
        "/conversations/{id}/messages": {
            "get": op(
                "Messages, oldest first",
                answer(200, list_of("Message")),
                params=[
                    *PATH_ID,
                    {"name": "before_id", "in": "query", "schema": ID},
                    PAGE_PARAMS[1],
                ],
                tag="conversations",
            ),
            "post": op(
                "Send a message to the client",
                answer(201, ref("Message"), "Queued"),
                params=PATH_ID,
                body=obj({"text": text(20000, minLength=1)}, ["text"], additionalProperties=False),
                tag="conversations",
            ),
        },
        "/inquiries": {
            "get": op(
                "Waiting inquiries the key's user may take, oldest first",
                answer(200, list_of("Inquiry")),
                params=[PAGE_PARAMS[1]],
                tag="inquiries",
            )
        },
        "/inquiries/{id}/accept": {
            "post": op(
                "Take the inquiry: a deal opens, the key's user responsible; 409 names who "
                "took it first",
                answer(201, ref("Interest"), "The new deal"),
                params=PATH_ID,
                body=obj({"title": nullable(text(300))}, additionalProperties=False),
                tag="inquiries",
            )
        },
        "/inquiries/{id}/reject": {
            "post": op(
                "Reject the inquiry with a rejection reason (none only while the list is empty)",
                answer(200, ref("Inquiry")),
                params=PATH_ID,
                body=obj({"reason_id": nullable(ID)}, additionalProperties=False),
                tag="inquiries",
            )
        },
        "/inquiries/{id}/handover": {
            "post": op(
                "Hand the inquiry to another user (its client becomes theirs)",
                answer(200, ref("Inquiry")),
                params=PATH_ID,
                body=obj({"to_user_id": ID}, ["to_user_id"], additionalProperties=False),
                tag="inquiries",
            )
        },
    }
