from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from crm.models.bot import CardKind
from crm.models.channels import ChannelKind, Visibility
from crm.models.clients import ClientKind, ContactKind, RelationType
from crm.models.conversations import Direction, InquiryStatus, MessageStatus, RawEventStatus
from crm.models.deals import InterestStatus
from crm.models.fields import BelongsTo, FieldType
from crm.models.imports import ImportStatus
from crm.models.interactions import InteractionKind, InteractionState
from crm.models.scenarios import ReasonKind, StageActionKind
from crm.models.users import Role
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="Company",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(default="", max_length=300)),
                ("inn", fields.CharField(null=True, max_length=12)),
                ("org_form", fields.CharField(default="", max_length=50)),
                ("business_kind", fields.CharField(default="", max_length=100)),
                ("employees", fields.IntField(null=True)),
                ("default_locale", fields.CharField(default="ru", max_length=8)),
                ("default_timezone", fields.CharField(default="Europe/Moscow", max_length=64)),
                ("clients_visible_to_all", fields.BooleanField(default=False)),
                ("reminder_lead_minutes", fields.IntField(default=15)),
                ("work_day_start", fields.TimeField(null=True, auto_now=False, auto_now_add=False)),
                ("work_day_end", fields.TimeField(null=True, auto_now=False, auto_now_add=False)),
                ("currency", fields.CharField(default="RUB", max_length=3)),
                ("onboarded", fields.BooleanField(default=False)),
            ],
            options={
                "table": "company",
                "app": "models",
                "pk_attr": "id",
                "table_description": "The one company this install serves, and its CRM-wide settings (a single row).",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="FieldSection",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(unique=True, max_length=100)),
                ("position", fields.IntField(default=0)),
            ],
            options={
                "table": "field_sections",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A group of fields on the client card.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="FieldDefinition",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=100)),
                (
                    "belongs_to",
                    fields.CharEnumField(
                        default=BelongsTo.ALL,
                        description="ALL: all\nLEGAL: legal\nINDIVIDUAL: individual",
                        enum_type=BelongsTo,
                        max_length=16,
                    ),
                ),
                (
                    "type",
                    fields.CharEnumField(
                        description="LIST: list\nSTRING: string\nNUMBER: number\nFLAG: flag\nDATE: date",
                        enum_type=FieldType,
                        max_length=8,
                    ),
                ),
                (
                    "section",
                    fields.ForeignKeyField(
                        "models.FieldSection",
                        source_field="section_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="fields",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("position", fields.IntField(default=0)),
                ("required", fields.BooleanField(default=False)),
                ("is_active", fields.BooleanField(default=True)),
            ],
            options={
                "table": "field_definitions",
                "app": "models",
                "unique_together": (("name", "belongs_to"),),
                "pk_attr": "id",
                "table_description": 'A custom client field ("additional attribute" in 1C).',
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="FieldOption",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "definition",
                    fields.ForeignKeyField(
                        "models.FieldDefinition",
                        source_field="definition_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="options",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("value", fields.CharField(max_length=200)),
                ("position", fields.IntField(default=0)),
            ],
            options={
                "table": "field_options",
                "app": "models",
                "unique_together": (("definition", "value"),),
                "pk_attr": "id",
                "table_description": "One value of a list field.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="ImportMapping",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("heading", fields.CharField(unique=True, max_length=200)),
                ("target", fields.CharField(max_length=50)),
            ],
            options={
                "table": "import_mappings",
                "app": "models",
                "pk_attr": "id",
                "table_description": "The client field a column heading was last mapped to (offered at the next import).",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="Reason",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="LOSS: loss\nREJECTION: rejection",
                        enum_type=ReasonKind,
                        max_length=16,
                    ),
                ),
                ("text", fields.CharField(max_length=200)),
                ("position", fields.IntField(default=0)),
                ("is_active", fields.BooleanField(default=True)),
            ],
            options={
                "table": "reasons",
                "app": "models",
                "unique_together": (("kind", "text"),),
                "pk_attr": "id",
                "table_description": "An entry of the loss-reason or the inquiry-rejection-reason list.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="Scenario",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(unique=True, max_length=200)),
                ("require_next_step", fields.BooleanField(default=True)),
                ("allow_past_planning", fields.BooleanField(default=True)),
                ("is_default", fields.BooleanField(default=False)),
                ("is_active", fields.BooleanField(default=True)),
            ],
            options={
                "table": "scenarios",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A sales scenario: the ordered stages an interest goes through.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="Stage",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "scenario",
                    fields.ForeignKeyField(
                        "models.Scenario",
                        source_field="scenario_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="stages",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=200)),
                ("position", fields.IntField(default=0)),
            ],
            options={"table": "stages", "app": "models", "pk_attr": "id"},
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="StageAction",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "stage",
                    fields.ForeignKeyField(
                        "models.Stage",
                        source_field="stage_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="actions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="SEND_MESSAGE: send_message\nCREATE_TASK: create_task",
                        enum_type=StageActionKind,
                        max_length=16,
                    ),
                ),
                (
                    "params",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("position", fields.IntField(default=0)),
            ],
            options={
                "table": "stage_actions",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A robot: what happens once when an interest enters the stage.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="Tag",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(unique=True, max_length=100)),
            ],
            options={"table": "tags", "app": "models", "pk_attr": "id"},
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="User",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("email", fields.CharField(unique=True, max_length=254)),
                ("full_name", fields.CharField(max_length=200)),
                ("phone", fields.CharField(null=True, max_length=20)),
                (
                    "role",
                    fields.CharEnumField(
                        default=Role.MANAGER,
                        description="ADMIN: admin\nMANAGER: manager",
                        enum_type=Role,
                        max_length=16,
                    ),
                ),
                ("locale", fields.CharField(default="ru", max_length=8)),
                ("timezone", fields.CharField(default="Europe/Moscow", max_length=64)),
                ("telegram_user_id", fields.BigIntField(null=True, unique=True)),
                ("telegram_blocked", fields.BooleanField(default=False)),
                ("is_active", fields.BooleanField(default=True)),
                ("password_hash", fields.CharField(null=True, max_length=200)),
            ],
            options={"table": "users", "app": "models", "pk_attr": "id"},
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="ApiKey",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=100)),
                ("prefix", fields.CharField(max_length=12)),
                ("key_hash", fields.CharField(unique=True, max_length=64)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="api_keys",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "created_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="created_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "last_used_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "api_keys",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A key for /api/v1. It acts as its user, with that user's rights, and only a hash of",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="ChangeRecord",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("entity", fields.CharField(max_length=20)),
                ("entity_id", fields.IntField()),
                ("field", fields.CharField(max_length=100)),
                ("old", fields.TextField(null=True, unique=False)),
                ("new", fields.TextField(null=True, unique=False)),
                (
                    "actor",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="actor_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
            ],
            options={
                "table": "change_records",
                "app": "models",
                "indexes": [Index(fields=["entity", "entity_id", "created_at"])],
                "pk_attr": "id",
                "table_description": "Who changed which field of a card (client, key person, interest), when, old -> new.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="Channel",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="TELEGRAM: telegram\nVK: vk\nVIBER: viber\nEMAIL: email",
                        enum_type=ChannelKind,
                        max_length=16,
                    ),
                ),
                ("name", fields.CharField(max_length=200)),
                (
                    "credentials",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "settings",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "state",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("api_base", fields.CharField(default="", max_length=300)),
                (
                    "visibility",
                    fields.CharEnumField(
                        default=Visibility.ALL,
                        description="ALL: all\nUSER: user\nUSERS: users",
                        enum_type=Visibility,
                        max_length=8,
                    ),
                ),
                (
                    "visible_users",
                    fields.ManyToManyField(
                        "models.User",
                        unique=True,
                        db_constraint=True,
                        through="channel_visible_users",
                        forward_key="user_id",
                        backward_key="channels_id",
                        related_name="visible_channels",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "responsible",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="responsible_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="responsible_channels",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "default_scenario",
                    fields.ForeignKeyField(
                        "models.Scenario",
                        source_field="default_scenario_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="channels",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("is_active", fields.BooleanField(default=True)),
            ],
            options={
                "table": "channels",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A connected account: a customer-facing Telegram bot, VK community, Viber bot, mailbox.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="Client",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        default=ClientKind.INDIVIDUAL,
                        description="LEGAL: legal\nINDIVIDUAL: individual",
                        enum_type=ClientKind,
                        max_length=16,
                    ),
                ),
                ("name", fields.CharField(max_length=300)),
                ("legal_name", fields.CharField(default="", max_length=500)),
                ("inn", fields.CharField(null=True, db_index=True, max_length=12)),
                ("kpp", fields.CharField(null=True, max_length=9)),
                ("org_form", fields.CharField(default="", max_length=50)),
                ("birthday", fields.DateField(null=True)),
                ("birthday_md", fields.SmallIntField(null=True, db_index=True)),
                ("region", fields.CharField(default="", max_length=100)),
                ("timezone", fields.CharField(null=True, max_length=64)),
                (
                    "relation_type",
                    fields.CharEnumField(
                        default=RelationType.BUYER,
                        description="BUYER: buyer\nSUPPLIER: supplier\nCOMPETITOR: competitor\nGOVERNMENT: government\nFOUNDER: founder\nOTHER: other",
                        enum_type=RelationType,
                        max_length=16,
                    ),
                ),
                (
                    "responsible",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="responsible_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="clients",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("is_lead", fields.BooleanField(default=False)),
                ("lead_source", fields.CharField(default="", max_length=200)),
                ("note", fields.TextField(default="", unique=False)),
                (
                    "merged_into",
                    fields.ForeignKeyField(
                        "models.Client",
                        source_field="merged_into_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="merged_clients",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "tags",
                    fields.ManyToManyField(
                        "models.Tag",
                        unique=True,
                        db_constraint=True,
                        through="client_tags",
                        forward_key="tag_id",
                        backward_key="clients_id",
                        related_name="clients",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "clients",
                "app": "models",
                "indexes": [Index(fields=["responsible_id", "merged_into_id"])],
                "pk_attr": "id",
                "table_description": "A customer: a legal entity or an individual (sole proprietors are individuals).",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="ChannelIdentity",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "channel",
                    fields.ForeignKeyField(
                        "models.Channel",
                        source_field="channel_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="identities",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("external_id", fields.CharField(max_length=254)),
                (
                    "client",
                    fields.ForeignKeyField(
                        "models.Client",
                        source_field="client_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="identities",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("display_name", fields.CharField(default="", max_length=300)),
                ("subscribed", fields.BooleanField(default=True)),
            ],
            options={
                "table": "channel_identities",
                "app": "models",
                "unique_together": (("channel", "external_id"),),
                "pk_attr": "id",
                "table_description": "Who a sender is on one channel (Telegram user id, VK id, Viber id, email) -> client.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="ClientContact",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "client",
                    fields.ForeignKeyField(
                        "models.Client",
                        source_field="client_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="contacts",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="PHONE: phone\nEMAIL: email",
                        enum_type=ContactKind,
                        max_length=8,
                    ),
                ),
                ("value", fields.CharField(max_length=254)),
                ("position", fields.SmallIntField(default=0)),
            ],
            options={
                "table": "client_contacts",
                "app": "models",
                "unique_together": (("client", "kind", "value"),),
                "indexes": [Index(fields=["kind", "value"])],
                "pk_attr": "id",
                "table_description": "A normalized phone (E.164) or email of a client: duplicate search and identity lookup.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="ContactPerson",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "client",
                    fields.ForeignKeyField(
                        "models.Client",
                        source_field="client_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="persons",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=200)),
                ("role", fields.CharField(default="", max_length=100)),
                ("phone", fields.CharField(null=True, max_length=20)),
                ("email", fields.CharField(null=True, max_length=254)),
                ("birthday", fields.DateField(null=True)),
                ("birthday_md", fields.SmallIntField(null=True, db_index=True)),
            ],
            options={
                "table": "contact_persons",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A key person of a client (director, accountant, ...), with a birthday of their own.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="DigestSent",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="digests",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("day", fields.DateField()),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "digests_sent",
                "app": "models",
                "unique_together": (("user", "day"),),
                "pk_attr": "id",
                "table_description": "The daily digest of one manager for one local day: claimed, then sent.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="FieldValue",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "client",
                    fields.ForeignKeyField(
                        "models.Client",
                        source_field="client_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="field_values",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "definition",
                    fields.ForeignKeyField(
                        "models.FieldDefinition",
                        source_field="definition_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="values",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("value_string", fields.TextField(null=True, unique=False)),
                ("value_number", fields.DecimalField(null=True, max_digits=20, decimal_places=4)),
                ("value_flag", fields.BooleanField(null=True)),
                ("value_date", fields.DateField(null=True)),
                (
                    "value_option",
                    fields.ForeignKeyField(
                        "models.FieldOption",
                        source_field="value_option_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="values",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
            ],
            options={
                "table": "field_values",
                "app": "models",
                "unique_together": (("client", "definition"),),
                "pk_attr": "id",
                "table_description": "A typed value of one custom field for one client (exactly one value column is set).",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="ImportJob",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("filename", fields.CharField(max_length=255)),
                ("path", fields.CharField(max_length=500)),
                (
                    "options",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=ImportStatus.PENDING,
                        description="PENDING: pending\nRUNNING: running\nDONE: done\nFAILED: failed",
                        enum_type=ImportStatus,
                        max_length=8,
                    ),
                ),
                ("total", fields.IntField(default=0)),
                ("processed", fields.IntField(default=0)),
                ("created", fields.IntField(default=0)),
                ("updated", fields.IntField(default=0)),
                ("skipped", fields.IntField(default=0)),
                ("failed_path", fields.CharField(default="", max_length=500)),
                ("error", fields.TextField(default="", unique=False)),
                (
                    "started_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="started_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "finished_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "import_jobs",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One import of clients from a CSV or XLSX file, with its progress and outcome.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="Interest",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "client",
                    fields.ForeignKeyField(
                        "models.Client",
                        source_field="client_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="interests",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("title", fields.CharField(max_length=300)),
                (
                    "scenario",
                    fields.ForeignKeyField(
                        "models.Scenario",
                        source_field="scenario_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="interests",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "stage",
                    fields.ForeignKeyField(
                        "models.Stage",
                        source_field="stage_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="interests",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "responsible",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="responsible_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="interests",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("amount", fields.DecimalField(null=True, max_digits=16, decimal_places=2)),
                ("currency", fields.CharField(default="RUB", max_length=3)),
                (
                    "status",
                    fields.CharEnumField(
                        default=InterestStatus.OPEN,
                        description="OPEN: open\nWON: won\nLOST: lost",
                        enum_type=InterestStatus,
                        max_length=8,
                    ),
                ),
                (
                    "loss_reason",
                    fields.ForeignKeyField(
                        "models.Reason",
                        source_field="loss_reason_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="lost_interests",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("closed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("source", fields.CharField(default="", max_length=200)),
            ],
            options={
                "table": "interests",
                "app": "models",
                "indexes": [Index(fields=["responsible_id", "status"])],
                "pk_attr": "id",
                "table_description": "A deal: a client's interest moving through the stages of a scenario.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="Conversation",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "channel",
                    fields.ForeignKeyField(
                        "models.Channel",
                        source_field="channel_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="conversations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "identity",
                    fields.ForeignKeyField(
                        "models.ChannelIdentity",
                        source_field="identity_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="conversations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "client",
                    fields.ForeignKeyField(
                        "models.Client",
                        source_field="client_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="conversations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "interest",
                    fields.ForeignKeyField(
                        "models.Interest",
                        source_field="interest_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="conversations",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "last_message_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "conversations",
                "app": "models",
                "unique_together": (("channel", "identity"),),
                "pk_attr": "id",
                "table_description": "The dialogue of one client identity on one channel.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="Inquiry",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "conversation",
                    fields.ForeignKeyField(
                        "models.Conversation",
                        source_field="conversation_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="inquiries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "client",
                    fields.ForeignKeyField(
                        "models.Client",
                        source_field="client_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="inquiries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "channel",
                    fields.ForeignKeyField(
                        "models.Channel",
                        source_field="channel_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="inquiries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=InquiryStatus.OPEN,
                        description="OPEN: open\nACCEPTED: accepted\nREJECTED: rejected",
                        enum_type=InquiryStatus,
                        max_length=10,
                    ),
                ),
                ("first_message_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "decided_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="decided_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("decided_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("response_seconds", fields.IntField(null=True)),
                (
                    "interest",
                    fields.ForeignKeyField(
                        "models.Interest",
                        source_field="interest_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "rejection_reason",
                    fields.ForeignKeyField(
                        "models.Reason",
                        source_field="rejection_reason_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
            ],
            options={
                "table": "inquiries",
                "app": "models",
                "indexes": [Index(fields=["status", "channel_id"])],
                "pk_attr": "id",
                "table_description": "An inbound conversation nobody has taken yet.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="Interaction",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "client",
                    fields.ForeignKeyField(
                        "models.Client",
                        source_field="client_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="interactions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "interest",
                    fields.ForeignKeyField(
                        "models.Interest",
                        source_field="interest_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="interactions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "responsible",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="responsible_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="interactions",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="CALL: call\nMEETING: meeting\nEMAIL: email\nMESSAGE: message\nSMS: sms\nTASK: task\nNOTE: note",
                        enum_type=InteractionKind,
                        max_length=8,
                    ),
                ),
                ("subject", fields.CharField(default="", max_length=300)),
                ("content", fields.TextField(default="", unique=False)),
                (
                    "state",
                    fields.CharEnumField(
                        default=InteractionState.PLANNED,
                        description="PLANNED: planned\nDONE: done\nCANCELLED: cancelled",
                        enum_type=InteractionState,
                        max_length=10,
                    ),
                ),
                ("planned_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("done_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("sort_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("remind_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "reminded_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "remind_claimed_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("nagged_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "nag_claimed_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("message_id", fields.BigIntField(null=True)),
            ],
            options={
                "table": "interactions",
                "app": "models",
                "indexes": [
                    Index(fields=["interest_id", "state", "sort_at"]),
                    Index(fields=["client_id", "state", "sort_at"]),
                    Index(fields=["responsible_id", "state", "planned_at"]),
                ],
                "pk_attr": "id",
                "table_description": "A planned or done contact with a client, optionally within an interest.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="Invite",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("code", fields.CharField(unique=True, max_length=64)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="invites",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "invites",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A one-time code that binds a Telegram account to a CRM user.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="MergeRecord",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "survivor",
                    fields.ForeignKeyField(
                        "models.Client",
                        source_field="survivor_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "merged",
                    fields.ForeignKeyField(
                        "models.Client",
                        source_field="merged_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "moved",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "actor",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="actor_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("undone_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "merge_records",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A merge of two clients, with what moved, so it can be undone.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="Message",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "conversation",
                    fields.ForeignKeyField(
                        "models.Conversation",
                        source_field="conversation_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="messages",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "channel",
                    fields.ForeignKeyField(
                        "models.Channel",
                        source_field="channel_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="messages",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "direction",
                    fields.CharEnumField(
                        description="IN: in\nOUT: out", enum_type=Direction, max_length=3
                    ),
                ),
                ("text", fields.TextField(default="", unique=False)),
                ("original_text", fields.TextField(null=True, unique=False)),
                (
                    "attachments",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "meta",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("source_id", fields.CharField(null=True, max_length=254)),
                (
                    "status",
                    fields.CharEnumField(
                        description="RECEIVED: received\nQUEUED: queued\nSENDING: sending\nSENT: sent\nDELIVERED: delivered\nSEEN: seen\nFAILED: failed\nDEAD: dead",
                        enum_type=MessageStatus,
                        max_length=10,
                    ),
                ),
                (
                    "author",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="author_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("attempts", fields.SmallIntField(default=0)),
                (
                    "next_attempt_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "claimed_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("last_error", fields.TextField(default="", unique=False)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "messages",
                "app": "models",
                "unique_together": (("channel", "source_id"),),
                "indexes": [
                    Index(fields=["conversation_id", "id"]),
                    Index(fields=["status", "next_attempt_at"]),
                ],
                "pk_attr": "id",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="ChatCard",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="chat_cards",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("chat_id", fields.BigIntField()),
                ("chat_message_id", fields.BigIntField()),
                (
                    "kind",
                    fields.CharEnumField(
                        description="INQUIRY: inquiry\nMESSAGE: message\nREPLY: reply\nDEAL: deal",
                        enum_type=CardKind,
                        max_length=8,
                    ),
                ),
                (
                    "conversation",
                    fields.ForeignKeyField(
                        "models.Conversation",
                        source_field="conversation_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "inquiry",
                    fields.ForeignKeyField(
                        "models.Inquiry",
                        source_field="inquiry_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "interest",
                    fields.ForeignKeyField(
                        "models.Interest",
                        source_field="interest_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "message",
                    fields.ForeignKeyField(
                        "models.Message",
                        source_field="message_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "chat_cards",
                "app": "models",
                "unique_together": (("chat_id", "chat_message_id"),),
                "indexes": [
                    Index(fields=["inquiry_id", "kind"]),
                    Index(fields=["message_id", "kind"]),
                ],
                "pk_attr": "id",
                "table_description": "One bot message in a manager's private chat and what it is about.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="RawEvent",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "channel",
                    fields.ForeignKeyField(
                        "models.Channel",
                        source_field="channel_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="raw_events",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("body", fields.TextField(unique=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=RawEventStatus.PENDING,
                        description="PENDING: pending\nPROCESSED: processed\nUNPARSED: unparsed",
                        enum_type=RawEventStatus,
                        max_length=10,
                    ),
                ),
                ("error", fields.TextField(default="", unique=False)),
                ("attempts", fields.SmallIntField(default=0)),
                (
                    "claimed_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "processed_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "raw_events",
                "app": "models",
                "indexes": [Index(fields=["status", "id"])],
                "pk_attr": "id",
                "table_description": "A webhook body or polled update exactly as received, stored before it is acknowledged.",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="StageChange",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "interest",
                    fields.ForeignKeyField(
                        "models.Interest",
                        source_field="interest_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="stage_changes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "from_stage",
                    fields.ForeignKeyField(
                        "models.Stage",
                        source_field="from_stage_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "to_stage",
                    fields.ForeignKeyField(
                        "models.Stage",
                        source_field="to_stage_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "actor",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="actor_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("robots_done", fields.BooleanField(default=False)),
                (
                    "robots_claimed_until",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("robots_attempts", fields.SmallIntField(default=0)),
                ("robots_error", fields.TextField(default="", unique=False)),
            ],
            options={
                "table": "stage_changes",
                "app": "models",
                "indexes": [Index(fields=["robots_done", "id"])],
                "pk_attr": "id",
                "table_description": "One move of an interest from a stage to another (or its win/loss).",
            },
            bases=["Timestamped"],
        ),
        ops.CreateModel(
            name="UserGroup",
            fields=[
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(unique=True, max_length=100)),
                (
                    "members",
                    fields.ManyToManyField(
                        "models.User",
                        unique=True,
                        db_constraint=True,
                        through="user_group_members",
                        forward_key="user_id",
                        backward_key="user_groups_id",
                        related_name="groups",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "user_groups",
                "app": "models",
                "pk_attr": "id",
                "table_description": 'A named team such as "Sales": a responsible party or a list of users in one name.',
            },
            bases=["Timestamped"],
        ),
    ]
