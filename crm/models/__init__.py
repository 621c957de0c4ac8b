"""Tortoise models, one module per aggregate, re-exported here (the `models` app)."""

from crm.models.apikeys import ApiKey
from crm.models.bot import CardKind, ChatCard, DigestSent
from crm.models.channels import Channel, ChannelIdentity, ChannelKind, Visibility
from crm.models.clients import (
    Client,
    ClientContact,
    ClientKind,
    ContactKind,
    ContactPerson,
    RelationType,
    Tag,
)
from crm.models.company import Company
from crm.models.conversations import (
    Conversation,
    Direction,
    Inquiry,
    InquiryStatus,
    Message,
    MessageStatus,
    RawEvent,
    RawEventStatus,
)
from crm.models.deals import Interest, InterestStatus, StageChange
from crm.models.fields import (
    BelongsTo,
    FieldDefinition,
    FieldOption,
    FieldSection,
    FieldType,
    FieldValue,
)
from crm.models.history import ChangeRecord, MergeRecord
from crm.models.imports import ImportJob, ImportMapping, ImportStatus
from crm.models.interactions import Interaction, InteractionKind, InteractionState
from crm.models.money import Invoice, Payment
from crm.models.notices import NoticeKind, NoticeSent
from crm.models.plans import ManagerPlan
from crm.models.scenarios import Reason, ReasonKind, Scenario, Stage, StageAction, StageActionKind
from crm.models.segments import ClientClass, Segment, SegmentMember
from crm.models.sessions import WebSession
from crm.models.users import Invite, Role, User, UserGroup

__all__ = [
    "ApiKey",
    "BelongsTo",
    "CardKind",
    "ChangeRecord",
    "Channel",
    "ChannelIdentity",
    "ChannelKind",
    "ChatCard",
    "Client",
    "ClientClass",
    "ClientContact",
    "ClientKind",
    "Company",
    "ContactKind",
    "ContactPerson",
    "Conversation",
    "DigestSent",
    "Direction",
    "FieldDefinition",
    "FieldOption",
    "FieldSection",
    "FieldType",
    "FieldValue",
    "ImportJob",
    "ImportMapping",
    "ImportStatus",
    "Inquiry",
    "InquiryStatus",
    "Interaction",
    "InteractionKind",
    "InteractionState",
    "Interest",
    "InterestStatus",
    "Invite",
    "Invoice",
    "ManagerPlan",
    "MergeRecord",
    "Message",
    "MessageStatus",
    "NoticeKind",
    "NoticeSent",
    "Payment",
    "RawEvent",
    "RawEventStatus",
    "Reason",
    "ReasonKind",
    "RelationType",
    "Role",
    "Scenario",
    "Segment",
    "SegmentMember",
    "Stage",
    "StageAction",
    "StageActionKind",
    "StageChange",
    "Tag",
    "User",
    "UserGroup",
    "Visibility",
    "WebSession",
]
