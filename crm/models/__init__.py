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
from crm.models.consent import ClientConsent, ConsentSource, EmailBounce
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
from crm.models.desk import ConversationNote, ConversationRead, DeskEvent, ReplyKey
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
from crm.models.mailings import (
    Mailing,
    MailingKind,
    MailingRecipient,
    MailingStatus,
    PaceSlot,
)
from crm.models.money import Invoice, Payment
from crm.models.notices import NoticeKind, NoticeSent
from crm.models.plans import ManagerPlan
from crm.models.quick_replies import QuickReply
from crm.models.scenarios import (
    Reason,
    ReasonKind,
    Scenario,
    Stage,
    StageAction,
    StageActionKind,
    StageMark,
)
from crm.models.segments import ClientClass, Segment, SegmentMember
from crm.models.sessions import WebSession
from crm.models.surveys import QuestionKind, SurveyAnswer, SurveyQuestion
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
    "ClientConsent",
    "ClientContact",
    "ClientKind",
    "Company",
    "ConsentSource",
    "ContactKind",
    "ContactPerson",
    "Conversation",
    "ConversationNote",
    "ConversationRead",
    "DeskEvent",
    "DigestSent",
    "Direction",
    "EmailBounce",
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
    "Mailing",
    "MailingKind",
    "MailingRecipient",
    "MailingStatus",
    "ManagerPlan",
    "MergeRecord",
    "Message",
    "MessageStatus",
    "NoticeKind",
    "NoticeSent",
    "PaceSlot",
    "Payment",
    "QuestionKind",
    "QuickReply",
    "RawEvent",
    "RawEventStatus",
    "Reason",
    "ReasonKind",
    "RelationType",
    "ReplyKey",
    "Role",
    "Scenario",
    "Segment",
    "SegmentMember",
    "Stage",
    "StageAction",
    "StageActionKind",
    "StageChange",
    "StageMark",
    "SurveyAnswer",
    "SurveyQuestion",
    "Tag",
    "User",
    "UserGroup",
    "Visibility",
    "WebSession",
]
