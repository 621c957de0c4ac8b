"""One error hierarchy for the whole domain.

    CrmError                 code, message (English msgid, translated where shown), fields
     +-- ValidationFailed    bad input; `fields` maps each offending field to its message
     |    +-- BadSetting     a setting (CRMHUB_...) refused or unusable; the command line
     |                       prints one line per variable and exits with status 2
     +-- NotFound            missing, or not visible to the actor (never leaks existence)
     +-- PermissionDenied    visible, but the actor may not do this
     +-- Conflict            the state forbids it (stage in use, already taken, ...)
     |    +-- NextStepRequired  the scenario requires a planned next interaction
     |    +-- Duplicate          a client already has this identity (its id, when visible)
     +-- ExternalError       a channel or mail server refused or failed

Bot handlers and web middleware turn these into a localized message or a JSON body
`{"error": {"code", "message", "fields"}}`; nothing else catches broadly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from crm.i18n import N_, Text, gettext


class CrmError(Exception):
    code: ClassVar[str] = "error"
    default_message: ClassVar[str] = N_("Something went wrong")
    http_status: ClassVar[int] = 400

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: Mapping[str, str | Text] | None = None,
        **params: Any,
    ) -> None:
        self.message = message or self.default_message
        if code:
            self.code = code  # type: ignore[misc]
        self.params = params
        self.fields: dict[str, Text] = {
            name: text if isinstance(text, Text) else Text(text, **params)
            for name, text in (fields or {}).items()
        }
        super().__init__(self.render("en"))

    def render(self, locale: str | None) -> str:
        """The message in `locale`, with field messages appended."""
        return gettext(self.message, locale, **self.params)

    def field_messages(self, locale: str | None) -> dict[str, str]:
        return {name: text.render(locale) for name, text in self.fields.items()}

    def as_json(self, locale: str | None) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.render(locale),
                "fields": self.field_messages(locale),
            }
        }


class ValidationFailed(CrmError):
    code = "validation_failed"
    default_message = N_("Please correct the highlighted fields")
    http_status = 422

    @classmethod
    def field(
        cls, field: str, message: str, /, *, code: str | None = None, **params: Any
    ) -> ValidationFailed:
        """One offending field; the overall message repeats the field's own."""
        return cls(message, code=code, fields={field: Text(message, **params)}, **params)


class BadSetting(ValidationFailed):
    """`fields` maps each refused variable (CRMHUB_...) to what is wrong and how to fix it."""

    code = "bad_setting"

    @classmethod
    def variable(cls, name: str, message: str, /, **params: Any) -> BadSetting:
        return cls(fields={name: Text(message, **params)})


class NotFound(CrmError):
    code = "not_found"
    default_message = N_("Not found")
    http_status = 404


class PermissionDenied(CrmError):
    code = "permission_denied"
    default_message = N_("You are not allowed to do this")
    http_status = 403


class Conflict(CrmError):
    code = "conflict"
    default_message = N_("This cannot be done in the current state")
    http_status = 409


class NextStepRequired(Conflict):
    code = "next_step_required"
    default_message = N_("Plan the next interaction first: this scenario requires one")


class Duplicate(Conflict):
    """A client already has the identity (INN) a new card gives; `client_id` names it
    when the actor may see it (the JSON error carries it)."""

    code = "duplicate"
    default_message = N_("A client with this INN already exists")

    def __init__(self, client_id: int | None) -> None:
        super().__init__(
            N_("A client with this INN already exists: #{client_id}") if client_id else None,
            client_id=client_id,
        )
        self.client_id = client_id

    def as_json(self, locale: str | None) -> dict[str, Any]:
        data = super().as_json(locale)
        if self.client_id:
            data["error"]["client_id"] = self.client_id
        return data


class ExternalError(CrmError):
    code = "external_error"
    default_message = N_("The external service did not accept the request")
    http_status = 502


def collect(errors: Mapping[str, str | Text]) -> None:
    """Raise one ValidationFailed naming every offending field, if there are any."""
    if errors:
        raise ValidationFailed(fields=errors)
