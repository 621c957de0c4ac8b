"""The building blocks of the /api/v1 models: each type both validates a request and states
its rule in the OpenAPI document (an id is a positive int32, a text has its column's
length and no NUL, a name has a visible character), so the two cannot disagree.

`Body` is the base of a request body (strict JSON types, unknown fields refused), `Query`
of a query string (values are texts, read as the type says), `Answer` of an answer."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

INT32 = 2**31 - 1
NO_NUL = r"^[^\u0000]*$"  # PostgreSQL stores no NUL in text
# A character str.strip() keeps (a name of only spaces is no name)
VISIBLE = (
    r"[^\u0000\t-\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)
NAMED = rf"^[^\u0000]*{VISIBLE}[^\u0000]*$"


def _whole(value: object) -> object:
    """JSON Schema counts 5.0 an integer: so does the API."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WHOLE = BeforeValidator(_whole)  # after the range, so the document states the range
Id = Annotated[int, Field(ge=1, le=INT32, description="an id (a positive 32-bit integer)"), WHOLE]
Page = Annotated[int, Field(ge=1, le=100_000), WHOLE]
PerPage = Annotated[int, Field(ge=1, le=200), WHOLE]
# an amount of money, not negative, below 10^14 (kept to the kopeck): a number or its text
Amount = (
    Annotated[int, Field(ge=0, lt=10**14)]
    | Annotated[float, Field(ge=0, lt=1e14)]
    | Annotated[str, Field(pattern=r"^[0-9]{1,14}([.,][0-9]{1,2})?$")]
)


def text_of(limit: int) -> object:
    """A text of at most `limit` characters without NUL."""
    return Field(max_length=limit, pattern=NO_NUL)


def named(limit: int) -> object:
    """A text of at most `limit` characters with a visible one."""
    return Field(min_length=1, max_length=limit, pattern=NAMED)


class Body(BaseModel):
    """A JSON request body: the types as JSON has them (no "5" for 5), no unknown field."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Query(BaseModel):
    """A query string: each value a text read as its type; other parameters are ignored."""

    model_config = ConfigDict(extra="ignore")


class Answer(BaseModel):
    """An answer's JSON (documents what the handlers' shapes give)."""

    model_config = ConfigDict(extra="forbid")
