"""The demo's bulk rows: clients with their contacts, key persons, tags, custom values,
interests, stage changes and interactions, generated as plain tuples in the columns of
`COLUMNS` from one `random.Random`, ids counting on from the tables' current maximum."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from crm.demo.identifiers import base36, female_surname, inn10, inn12, latin, mobile_phone, permute
from crm.demo.inquiries import DEMO_COLUMNS, Inquiries
from crm.demo.reference import Setup
from crm.demo.words import (
    BIG_REGIONS,
    BRAND_ENDS,
    BRAND_HEADS,
    BRAND_TAILS,
    BRANDS,
    FEMALE_NAMES,
    LEAD_SOURCES,
    MAIL_DOMAINS,
    MALE_NAMES,
    NOTES,
    ORG_FORMS,
    PATRONYMICS,
    REGION_CODES,
    RESULTS,
    ROLES,
    SUBJECTS,
    SURNAMES,
    TOPICS,
)
from crm.regions import REGION_TIMEZONES

Row = tuple[Any, ...]
Rows = dict[str, list[Row]]

# Column lists in insertion (foreign key) order; created_at/updated_at are written
# explicitly because a raw insert bypasses tortoise's auto_now.
TS = ("id", "created_at", "updated_at")
COLUMNS: dict[str, tuple[str, ...]] = {
    "clients": (
        *TS, "kind", "name", "legal_name", "inn", "kpp", "org_form", "birthday", "birthday_md",
        "region", "timezone", "relation_type", "responsible_id", "is_lead", "lead_source", "note",
    ),
    "client_contacts": (*TS, "client_id", "kind", "value", "position"),
    "client_tags": ("clients_id", "tag_id"),
    "contact_persons": (
        *TS, "client_id", "name", "role", "phone", "email", "birthday", "birthday_md",
    ),
    "field_values": (*TS, "client_id", "definition_id", "value_number", "value_option_id"),
    "interests": (
        *TS, "client_id", "title", "scenario_id", "stage_id", "responsible_id", "amount",
        "currency", "status", "loss_reason_id", "closed_at", "source",
    ),
    "stage_changes": (
        *TS, "interest_id", "from_stage_id", "to_stage_id", "actor_id", "robots_done",
        "robots_attempts", "robots_error",
    ),
    "interactions": (
        *TS, "client_id", "interest_id", "responsible_id", "kind", "subject", "content", "state",
        "planned_at", "done_at", "sort_at", "remind_at", "reminded_at", "nagged_at",
    ),
    "invoices": (
        *TS, "interest_id", "client_id", "number", "issued_on", "due_on", "amount", "currency",
        "paid", "author_id",
    ),
    "payments": (*TS, "invoice_id", "client_id", "paid_on", "amount", "overpayment", "author_id"),
    **DEMO_COLUMNS,  # conversations and inquiries, for the reports
}  # fmt: skip

DAY = 86_400
YEAR = 365 * DAY
LEAD = 15 * 60  # reminder lead, as the company default
NAG_AFTER = 3600  # crm.reminders.claim_overdue_nags: an hour past the planned time
# A fresh demo looks like a CRM whose worker runs: the reminders and nags whose time has
# come were sent, but for the reminders of a handful of steps starting within the lead
# (the first step to come, then each with the chance NEAR), which the bot's first tick
# sends. Every step overdue or due left unsent made thousands at once on a big demo.
DUE_REMINDERS = 5
NEAR = 0.03


def weighted(pairs: dict[str, int]) -> list[str]:
    return [key for key, weight in pairs.items() for _ in range(weight)]


def _at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@dataclass
class Person:
    first: str
    patronymic: str
    surname: str

    @property
    def full(self) -> str:
        return f"{self.surname} {self.first} {self.patronymic}"


@dataclass
class Builder:
    """Generates the rows of `n` clients at a time, ids counting on from `next_ids`."""

    rng: random.Random
    setup: Setup
    next_ids: dict[str, int]
    now: datetime
    rows: Rows = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.now_ts = int(self.now.timestamp())
        self.today = self.now.date().toordinal()
        self.regions = weighted({r: BIG_REGIONS.get(r, 2) for r in REGION_TIMEZONES})
        self.relations = weighted(
            {"buyer": 75, "supplier": 8, "competitor": 2, "government": 3, "founder": 1,
             "other": 11}
        )  # fmt: skip
        self.org_forms = weighted({form: weight for form, weight, _ in ORG_FORMS})
        self.full_forms = {form: full for form, _, full in ORG_FORMS}
        self.kinds = weighted(
            {"call": 35, "email": 20, "message": 20, "meeting": 10, "note": 8, "sms": 3, "task": 4}
        )
        self.planned_kinds = weighted({"call": 50, "meeting": 15, "email": 15, "task": 20})
        self.interest_counts = [0] * 30 + [1] * 45 + [2] * 18 + [3] * 7
        default, *others = self.setup.scenarios
        self.scenario_pool = [default] * 4 + others
        self.female_patronymics = [p[:-3] + "вна" for p in PATRONYMICS]
        self.latin: dict[str, str] = {}
        self.due_left = DUE_REMINDERS
        self.inquiries = Inquiries(
            self.rng, self.setup.channels, self.setup.rejection_reasons, self.now_ts, self._id,
            self.rows,
        )  # fmt: skip
        self.name = ""

    def chunk(self, n: int) -> Rows:
        self.rows = {table: [] for table in COLUMNS}
        self.inquiries.rows = self.rows
        for _ in range(n):
            self._client()
        return self.rows

    def _id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def _lat(self, word: str) -> str:
        found = self.latin.get(word)
        if found is None:
            found = self.latin[word] = latin(word)
        return found

    def _person(self, male: bool) -> Person:
        r = self.rng
        surname = r.choice(SURNAMES)
        if male:
            return Person(r.choice(MALE_NAMES), r.choice(PATRONYMICS), surname)
        return Person(
            r.choice(FEMALE_NAMES), r.choice(self.female_patronymics), female_surname(surname)
        )

    def _birthday(self, youngest: int, oldest: int) -> tuple[date, int]:
        day = date.fromordinal(self.today - self.rng.randrange(youngest * 365, oldest * 365))
        return day, day.month * 100 + day.day

    def _brand(self) -> str:
        r = self.rng
        if r.random() < 0.5:
            core = r.choice(BRANDS)
        else:
            core = r.choice(BRAND_HEADS) + r.choice(BRAND_TAILS)
        return core + r.choice(BRAND_ENDS)

    def _client(self) -> None:
        r, s = self.rng, self.setup
        cid = self._id("clients")
        created = self.now_ts - 3600 - int(r.random() * 3 * YEAR)
        region = r.choice(self.regions)
        code = REGION_CODES.get(region, 77)
        responsible = r.choice(s.managers) if r.random() < 0.97 else None
        is_lead = r.random() < 0.06
        x = r.random()
        domain = None
        card: Row
        if x < 0.3:
            form = r.choice(self.org_forms)
            brand = self._brand()
            domain = f"{self._lat(brand)}-{base36(cid)}.ru"  # unique per client
            inn = inn10(f"{code:02d}{permute(cid, 10**7, 1_234_567):07d}")
            card = ("legal", f"{form} «{brand}»", f"{self.full_forms[form]} «{brand}»", inn,
                    inn[:4] + "01001", form, None, None)  # fmt: skip
        else:
            person = self._person(r.random() < 0.55)
            sole = x < 0.55
            inn12_ = inn12(f"{code:02d}{permute(cid, 10**8, 7_654_321):08d}")
            birthday, md = self._birthday(20, 70) if r.random() < 0.8 else (None, None)
            card = ("individual", f"ИП {person.full}" if sole else person.full,
                    f"Индивидуальный предприниматель {person.full}" if sole else "",
                    inn12_ if sole or r.random() < 0.25 else None, None, "ИП" if sole else "",
                    birthday, md)  # fmt: skip
        self.rows["clients"].append((
            cid, _at(created), _at(created + int(r.random() * (self.now_ts - created))), *card,
            region, REGION_TIMEZONES[region], r.choice(self.relations), responsible, is_lead,
            r.choice(LEAD_SOURCES) if is_lead or r.random() < 0.4 else "", r.choice(NOTES),
        ))  # fmt: skip
        self._contacts(cid, created, card[1], domain)
        self._extras(cid, created, legal=domain is not None)
        if domain is not None and r.random() < 0.55:
            for position in range(1 if r.random() < 0.7 else 2):
                self._key_person(cid, created, domain, position)
        count = r.choice(self.interest_counts) if not is_lead else int(r.random() < 0.5)
        self.name = card[1]
        for _ in range(count):
            self._interest(cid, created, responsible, legal=domain is not None)
        if count == 0 and s.channels and r.random() < 0.12:
            self.inquiries.other(cid, responsible, created, card[1])
        if count == 0 and r.random() < 0.35:
            self._past(cid, None, responsible, created + int(r.random() * (self.now_ts - created)))

    def _contacts(self, cid: int, created: int, name: str, domain: str | None) -> None:
        r = self.rng
        at = _at(created)
        contacts = self.rows["client_contacts"]
        if r.random() < 0.92:
            contacts.append(
                (self._id("client_contacts"), at, at, cid, "phone", mobile_phone(cid), 0)
            )
            if r.random() < 0.1:
                second = mobile_phone(cid, salt=5_000_011)
                contacts.append((self._id("client_contacts"), at, at, cid, "phone", second, 1))
        if domain is not None and r.random() < 0.85:
            email = f"{r.choice(('info', 'office', 'zakupki', 'sales'))}@{domain}"
        elif domain is None and r.random() < 0.6:
            words = [self._lat(w) for w in name.split() if w != "ИП"]
            email = f"{words[0]}.{words[1][:1]}{cid}@{r.choice(MAIL_DOMAINS)}"  # unique
        else:
            return
        contacts.append((self._id("client_contacts"), at, at, cid, "email", email, 0))

    def _extras(self, cid: int, created: int, *, legal: bool) -> None:
        """Tags and custom field values."""
        r, s = self.rng, self.setup
        at = _at(created)
        if r.random() < 0.35:
            for tag in r.sample(s.tags, 1 if r.random() < 0.75 else 2):
                self.rows["client_tags"].append((cid, tag))
        values = self.rows["field_values"]
        if s.loyalty_options and r.random() < 0.5:
            options = s.loyalty_options
            option = options[min(len(options) - 1, int(r.random() * 4) // 2 + (r.random() < 0.2))]
            values.append((self._id("field_values"), at, at, cid, s.loyalty_id, None, option))
        if legal and r.random() < 0.4:
            turnover = Decimal(f"{10 ** (r.random() * 4):.1f}000")  # decimal_places=4
            values.append((self._id("field_values"), at, at, cid, s.turnover_id, turnover, None))

    def _key_person(self, cid: int, created: int, domain: str, position: int) -> None:
        r = self.rng
        pid = self._id("contact_persons")
        person = self._person(r.random() < 0.5)
        role = ROLES[position] if r.random() < 0.7 else r.choice(ROLES)
        phone = mobile_phone(pid, salt=424_243) if r.random() < 0.8 else None
        email = f"{self._lat(person.first)}.{self._lat(person.surname)}@{domain}"
        birthday, md = self._birthday(25, 65) if r.random() < 0.6 else (None, None)
        at = _at(created)
        self.rows["contact_persons"].append(
            (pid, at, at, cid, f"{person.first} {person.patronymic} {person.surname}", role,
             phone, email, birthday, md)
        )  # fmt: skip

    def _interest(self, cid: int, client_created: int, responsible: int | None, *,
                  legal: bool) -> None:  # fmt: skip
        r, s = self.rng, self.setup
        iid = self._id("interests")
        scenario = r.choice(self.scenario_pool)
        stages = scenario.stages
        start = client_created + int(r.random() * (self.now_ts - client_created))
        age = self.now_ts - start
        closed = r.random() < (0.7 if age > 120 * DAY else 0.3 if age > 30 * DAY else 0.08)
        status, end, loss = "open", self.now_ts, None
        stage = min(int(r.random() ** 1.5 * len(stages)), len(stages) - 1)
        if closed:
            status = "won" if r.random() < 0.55 else "lost"
            stage = len(stages) - 1 if status == "won" else r.randrange(len(stages))
            end = start + int(age * (0.3 + 0.65 * r.random()))
            loss = r.choice(s.loss_reasons) if status == "lost" and s.loss_reasons else None
        if responsible is None or r.random() < 0.1:
            responsible = r.choice(s.managers)
        scale = 10 ** (4.7 + 2 * r.random()) if legal else 10 ** (3.7 + 1.8 * r.random())
        amount = (
            None if status == "open" and r.random() < 0.12 else Decimal(f"{round(scale, -2):.2f}")
        )
        self.rows["interests"].append((
            iid, _at(start), _at(end), cid, r.choice(TOPICS), scenario.id, stages[stage],
            responsible, amount, "RUB", status, loss, _at(end) if closed else None,
            r.choice(LEAD_SOURCES) if r.random() < 0.4 else "",
        ))  # fmt: skip
        if amount is not None and (status == "won" or (status == "open" and stage > 0)):
            self._money(iid, cid, responsible, amount, end, won=status == "won")
        span = max(end - start, 60)
        if s.channels and r.random() < 0.45:
            self.inquiries.accepted(cid, iid, responsible, start, self.name)
        # the moves between stages at random points of the deal's life: some stages are
        # passed in a day, others take months
        cuts = [0.0, *sorted(r.random() for _ in range(stage))]
        for i in range(stage + 1):
            at = _at(start + int(span * cuts[i]))
            self.rows["stage_changes"].append(
                (self._id("stage_changes"), at, at, iid, stages[i - 1] if i else None, stages[i],
                 responsible, True, 0, "")
            )  # fmt: skip
        times = sorted(start + int(r.random() * span) for _ in range(1 + int(r.random() ** 2 * 5)))
        for moment in times:
            self._past(cid, iid, responsible, moment)
        if status == "open" and r.random() < 0.9:
            self._planned(cid, iid, responsible, times[-1])

    def _money(self, iid: int, cid: int, responsible: int | None, amount: Decimal, end: int,
               *, won: bool) -> None:  # fmt: skip
        """A won deal's invoice, mostly paid (some partly or not at all, some of those past
        their due date: overdue); an open deal's sometimes, issued lately. A random of its
        own per deal, so the rest of the demo stays what the seed made it."""
        r = random.Random(iid)
        if not won and r.random() < 0.6:
            return
        today = date.fromordinal(self.today)
        issued_ts = end - int(r.random() * 10 * DAY) if won else self.now_ts - r.randrange(60) * DAY
        issued = min(_at(issued_ts).date(), today)
        due = date.fromordinal(issued.toordinal() + r.choice((5, 10, 14, 30)))
        made = _at(issued_ts)
        vid = self._id("invoices")
        luck = r.random()
        paid = amount if luck < (0.93 if won else 0.5) else (amount / 2).quantize(Decimal("0.01"))
        if luck >= (0.97 if won else 0.8):
            paid = Decimal("0.00")
        self.rows["invoices"].append(
            (vid, made, made, iid, cid, f"{iid}-1", issued, due, amount, "RUB", paid, responsible)
        )
        if paid:
            day = min(date.fromordinal(issued.toordinal() + r.randrange(1, 25)), today)
            self.rows["payments"].append(
                (self._id("payments"), made, made, vid, cid, day, paid, Decimal("0.00"),
                 responsible)
            )  # fmt: skip

    def _past(self, cid: int, iid: int | None, responsible: int | None, moment: int) -> None:
        """A done (sometimes cancelled) interaction; about half of them had been planned,
        and their reminders (and nags, when done an hour late) were sent."""
        r = self.rng
        kind = r.choice(self.kinds)
        cancelled = r.random() < 0.06
        planned = remind = reminded = nagged = None
        origin = moment
        if cancelled or r.random() < 0.55:
            origin = (moment - r.randrange(0, 7200)) // 900 * 900
            planned, remind = _at(origin), _at(origin - LEAD)
            reminded = _at(origin - LEAD + r.randrange(0, 60))
            if moment > origin + NAG_AFTER + 60:
                nagged = _at(origin + NAG_AFTER + r.randrange(0, 60))
        at = _at(moment)
        self.rows["interactions"].append((
            self._id("interactions"), _at(origin - r.randrange(600, 3 * DAY)), at, cid, iid,
            responsible, kind, r.choice(SUBJECTS[kind]), "" if cancelled else r.choice(RESULTS),
            "cancelled" if cancelled else "done", planned, None if cancelled else at,
            planned if cancelled else at, remind, reminded, nagged,
        ))  # fmt: skip

    def _planned(self, cid: int, iid: int, responsible: int | None, last: int) -> None:
        """The next step: mostly in the future, some overdue (reminded, and nagged about
        once an hour late), a handful within the reminder lead (reminders due: see
        DUE_REMINDERS)."""
        r, now = self.rng, self.now_ts
        reminded = nagged = None
        if r.random() < 0.15:
            planned = (now - r.randrange(600, 14 * DAY)) // 900 * 900
            reminded = _at(planned - LEAD + r.randrange(0, 60))
            if planned < now - NAG_AFTER:
                nagged = _at(min(planned + NAG_AFTER + r.randrange(0, 60), now))
        elif self.due_left and (self.due_left == DUE_REMINDERS or r.random() < NEAR):
            self.due_left -= 1
            planned = (now + r.randrange(60, LEAD)) // 60 * 60  # reminder time has come
        else:
            planned = (now + r.randrange(1200, 30 * DAY)) // 900 * 900 + 900
        kind = r.choice(self.planned_kinds)
        at = _at(planned)
        created = _at(min(last + r.randrange(60, 3600), now - 60))
        self.rows["interactions"].append((
            self._id("interactions"), created, created, cid, iid, responsible, kind,
            r.choice(SUBJECTS[kind]), "", "planned", at, None, at, _at(planned - LEAD), reminded,
            nagged,
        ))  # fmt: skip
