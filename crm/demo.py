"""Realistic Russian demo data, fast enough for a million clients.

The few setup rows (managers, scenarios, custom fields, tags, loss reasons) go through the
services. The bulk (clients, contacts, key persons, interests, stage changes, interactions)
is generated in chunks from one `random.Random(seed)` with ids allocated up front, and
written with COPY on PostgreSQL (executemany on SQLite): a service call per row would take
hours for a million clients."""

from __future__ import annotations

import asyncio
import functools
import math
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from crm import clock, fields, scenarios, users
from crm.models import (
    BelongsTo,
    FieldDefinition,
    FieldOption,
    FieldSection,
    FieldType,
    Reason,
    ReasonKind,
    Role,
    Scenario,
    Stage,
    Tag,
    User,
)
from crm.regions import REGION_TIMEZONES

CHUNK = 20_000
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
}  # fmt: skip

# --- word lists -----------------------------------------------------------------------------

MALE_NAMES = (
    "Александр Алексей Анатолий Андрей Антон Артём Борис Вадим Валерий Василий Виктор Виталий "
    "Владимир Владислав Вячеслав Геннадий Георгий Глеб Григорий Даниил Денис Дмитрий Евгений "
    "Егор Иван Игорь Илья Кирилл Константин Леонид Максим Матвей Михаил Никита Николай Олег "
    "Павел Пётр Роман Руслан Сергей Станислав Степан Тимофей Фёдор Юрий Ярослав"
).split()
FEMALE_NAMES = (
    "Александра Алина Алла Анастасия Анна Валентина Валерия Вера Виктория Галина Дарья Диана "
    "Евгения Екатерина Елена Елизавета Жанна Инна Ирина Карина Кристина Ксения Лариса Любовь "
    "Людмила Маргарита Марина Мария Надежда Наталья Нина Оксана Ольга Полина Светлана София "
    "Татьяна Ульяна Юлия Яна"
).split()
# Male patronymics; the female form swaps -вич for -вна.
PATRONYMICS = (
    "Александрович Алексеевич Анатольевич Андреевич Борисович Вадимович Валерьевич Васильевич "
    "Викторович Владимирович Вячеславович Геннадьевич Георгиевич Григорьевич Дмитриевич "
    "Евгеньевич Иванович Игоревич Константинович Леонидович Максимович Михайлович Николаевич "
    "Олегович Павлович Петрович Романович Сергеевич Станиславович Степанович Юрьевич Фёдорович"
).split()
# Male surnames; the female form is derived (-ов/-ин + а, -ский -> -ская), others unchanged.
SURNAMES = (
    "Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов "
    "Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев "
    "Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев "
    "Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин "
    "Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов "
    "Беляев Герасимов Богданов Осипов Сидоров Матвеев Титов Марков Миронов Крылов Куликов Карпов "
    "Власов Мельников Денисов Гаврилов Тихонов Казаков Афанасьев Данилов Савельев Тимофеев "
    "Фомин Чернов Абрамов Мартынов Ефимов Федотов Щербаков Назаров Калинин Исаев Чернышёв Быков "
    "Маслов Родионов Коновалов Лазарев Воронин Климов Филатов Пономарёв Голубев Кудрявцев "
    "Прохоров Наумов Потапов Журавлёв Овчинников Трофимов Леонов Соболев Ермаков Колесников "
    "Гончаров Емельянов Никифоров Грачёв Котов Гришин Ефремов Архипов Громов Кириллов Малышев "
    "Панов Моисеев Румянцев Акимов Кондратьев Бирюков Горбунов Анисимов Ерёмин Тихомиров "
    "Галкин Лукьянов Михеев Скворцов Юдин Белоусов Нестеров Симонов Прокофьев Харитонов "
    "Князев Цветков Левин Митрофанов Воронов Аксёнов Софронов Мальцев Логинов Горшков Савин "
    "Краснов Майоров Демидов Елисеев Рыбаков Сафонов Плотников Дьячков Островский Садовский "
    "Ковальский Вишневский Полянский Покровский Рождественский Соловецкий Шевченко Бондаренко "
    "Кравченко Ткаченко Черных Белых Седых"
).split()
ROLES = ("Генеральный директор", "Главный бухгалтер", "Коммерческий директор",
         "Менеджер по закупкам", "Руководитель отдела снабжения", "Юрист")  # fmt: skip
BRANDS = (
    "Альфа Вектор Гранит Дельта Импульс Квант Кристалл Меридиан Орион Партнёр Прогресс Ресурс "
    "Сигма Спектр Стандарт Старт Сфера Триумф Феникс Эталон Элемент Альянс Атлант Горизонт "
    "Континент Магистраль Монолит Олимп Пионер Регион Союз Титан Форвард Эверест Аврора Бастион "
    "Восход Гелиос Заря Исток Легион Лидер Маяк Ника Омега Полюс Рубин Сапфир Статус Фаворит"
).split()
BRAND_HEADS = (
    "Строй Торг Техно Пром Агро Энерго Транс Мед Инвест Снаб Лес Нефте Хим Электро Авто Инфо "
    "Фарм Металл Тепло Газ Вод Урал Сиб Волга Нева Дон Кубань Балт Амур Север"
).split()
BRAND_TAILS = (
    "ресурс комплект снаб сервис маркет трейд групп проект систем лайн инвест монтаж логистик "
    "пром строй техника холдинг мастер"
).split()
BRAND_ENDS = ("", "", "", "", "", " Плюс", "-М", " Центр", "-Опт", " Групп", "-2000", " Про")
ORG_FORMS = (("ООО", 78, "Общество с ограниченной ответственностью"),
             ("АО", 13, "Акционерное общество"),
             ("ПАО", 2, "Публичное акционерное общество"),
             ("АНО", 3, "Автономная некоммерческая организация"),
             ("ГУП", 4, "Государственное унитарное предприятие"))  # fmt: skip
MAIL_DOMAINS = ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru", "list.ru", "rambler.ru")
MOBILE_CODES = [c for c in range(900, 1000) if c not in (907, 930, 940, 942, 943, 944)]
LEAD_SOURCES = ("Сайт", "Выставка", "Рекомендация", "Холодный звонок", "Telegram", "VK",
                "Яндекс.Директ", "Тендерная площадка", "Email-рассылка")  # fmt: skip
NOTES = ("", "", "", "", "Предпочитает связь в мессенджерах", "Звонить после 11:00 по местному",
         "Работает с нами через дилера", "Просил не беспокоить в выходные",
         "Крупный клиент, решения принимает собственник", "Оплата только по безналу")  # fmt: skip
TOPICS = (
    "Поставка оборудования", "Внедрение CRM", "Годовой контракт на обслуживание",
    "Закупка расходных материалов", "Аренда спецтехники", "Поставка офисной мебели",
    "Разработка сайта", "Монтаж вентиляции", "Оптовая партия", "Обучение персонала",
    "Бухгалтерский аудит", "Логистика и доставка", "Ремонт офиса", "Продление лицензий",
    "Пробная партия", "Поставка спецодежды", "Сервисный договор", "Поставка стройматериалов",
    "Корпоративное питание", "Настройка IP-телефонии",
)  # fmt: skip
SUBJECTS: dict[str, tuple[str, ...]] = {
    "call": ("Первичный звонок", "Уточнить потребность", "Обсудить коммерческое предложение",
             "Согласовать условия оплаты", "Напомнить о счёте", "Уточнить сроки поставки"),
    "meeting": ("Встреча в офисе клиента", "Презентация решения", "Подписание договора",
                "Демонстрация продукта"),
    "email": ("Отправить КП", "Отправить договор на согласование", "Выслать счёт",
              "Ответ на запрос", "Отправить презентацию"),
    "message": ("Сообщение в Telegram", "Ответ в VK", "Напоминание в мессенджере"),
    "sms": ("SMS о статусе заказа", "SMS-напоминание о встрече"),
    "task": ("Подготовить КП", "Проверить оплату", "Согласовать скидку с руководителем",
             "Подготовить договор"),
    "note": ("Заметка после разговора", "Итоги встречи"),
}  # fmt: skip
RESULTS = ("", "Клиент заинтересован, ждёт КП", "Перезвонить через неделю",
           "Попросили скидку 5%", "Договорились о встрече", "Не дозвонился, недоступен",
           "Документы отправлены", "Согласовали сроки", "ЛПР в отпуске до конца месяца",
           "Сравнивают с предложением конкурента")  # fmt: skip
MANAGER_NAMES = (
    "Анна Смирнова", "Дмитрий Козлов", "Екатерина Волкова", "Игорь Лебедев", "Мария Соколова",
    "Алексей Морозов", "Ольга Новикова", "Сергей Павлов", "Татьяна Егорова", "Павел Орлов",
    "Юлия Макарова", "Никита Захаров", "Наталья Фролова", "Андрей Белов", "Светлана Жукова",
    "Роман Титов", "Елена Крылова", "Максим Гусев", "Ирина Полякова", "Денис Миронов",
)  # fmt: skip
MANAGER_TIMEZONES = (
    ("Europe/Moscow",) * 14
    + ("Asia/Yekaterinburg",) * 3
    + ("Asia/Novosibirsk", "Asia/Vladivostok", "Europe/Samara")
)
TAGS = ("VIP", "Опт", "Розница", "Постоянный", "Новый", "Тендер", "Дилер", "Холодный",
        "Рассылка", "Выставка")  # fmt: skip
LOSS_REASONS = ("Дорого", "Выбрали конкурента", "Нет бюджета", "Пропал интерес",
                "Не устроили сроки")  # fmt: skip
SCENARIOS = (
    ("Продажа", True, ("Первичный контакт", "Выявление потребности",
                       "Коммерческое предложение", "Согласование договора", "Оплата")),
    ("Тендер", False, ("Подготовка заявки", "Подача заявки", "Рассмотрение",
                       "Заключение контракта")),
)  # fmt: skip
# Tax office region codes of the business regions: the first two digits of INN and KPP.
REGION_CODES = {
    "Москва": 77, "Московская область": 50, "Санкт-Петербург": 78, "Ленинградская область": 47,
    "Нижегородская область": 52, "Краснодарский край": 23, "Ростовская область": 61,
    "Республика Татарстан": 16, "Воронежская область": 36, "Калининградская область": 39,
    "Самарская область": 63, "Удмуртская Республика": 18, "Саратовская область": 64,
    "Волгоградская область": 34, "Астраханская область": 30, "Ульяновская область": 73,
    "Свердловская область": 66, "Челябинская область": 74, "Пермский край": 59,
    "Республика Башкортостан": 2, "Тюменская область": 72, "Омская область": 55,
    "Новосибирская область": 54, "Томская область": 70, "Алтайский край": 22,
    "Кемеровская область": 42, "Красноярский край": 24, "Иркутская область": 38,
    "Республика Бурятия": 3, "Забайкальский край": 75, "Республика Саха (Якутия)": 14,
    "Амурская область": 28, "Приморский край": 25, "Хабаровский край": 27,
    "Сахалинская область": 65, "Магаданская область": 49, "Камчатский край": 41,
    "Чукотский автономный округ": 87,
}  # fmt: skip
BIG_REGIONS = {"Москва": 30, "Московская область": 10, "Санкт-Петербург": 12}
LATIN = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", (
    "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya").split(),
    strict=True))  # fmt: skip

INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
DAY = 86_400
YEAR = 365 * DAY
LEAD = 15 * 60  # reminder lead, as the company default


def _check(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)


def inn10(first9: str) -> str:
    """A legal entity's INN: nine digits plus the check digit."""
    return first9 + _check(first9, INN10_WEIGHTS)


def inn12(first10: str) -> str:
    """An individual's INN: ten digits plus two check digits."""
    eleven = first10 + _check(first10, INN11_WEIGHTS)
    return eleven + _check(eleven, INN12_WEIGHTS)


@functools.cache
def _spread(modulus: int) -> int:
    """A multiplier near the golden section of `modulus` and coprime to it."""
    factor = int(modulus * 0.6180339887)
    while math.gcd(factor, modulus) != 1:
        factor += 1
    return factor


def _permute(n: int, modulus: int, salt: int) -> int:
    """A bijection of [0, modulus) that scatters neighbours: unique identifiers (phones,
    INNs) derived from row ids, so a million clients never share one."""
    return (n * _spread(modulus) + salt) % modulus


def mobile_phone(n: int, salt: int = 0) -> str:
    """A valid Russian mobile number in E.164, unique for each n."""
    k = _permute(n, len(MOBILE_CODES) * 10_000_000, salt)
    return f"+7{MOBILE_CODES[k // 10_000_000]}{k % 10_000_000:07d}"


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, rest = divmod(n, 36)
        out = digits[rest] + out
        if not n:
            return out


def female_surname(male: str) -> str:
    if male.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return male + "а"
    if male.endswith("ий"):
        return male[:-2] + "ая"
    return male


def latin(text: str) -> str:
    out = "".join(LATIN.get(ch, ch) for ch in text.lower()).replace("-", "")
    return "".join(ch for ch in out if ch.isascii() and ch.isalnum())


def _weighted(pairs: dict[str, int]) -> list[str]:
    return [key for key, weight in pairs.items() for _ in range(weight)]


# --- setup through the services -------------------------------------------------------------


@dataclass
class ScenarioInfo:
    id: int
    stages: list[int]


@dataclass
class Setup:
    """The reference rows the bulk points at (found, or created on the first run)."""

    managers: list[int]
    scenarios: list[ScenarioInfo]
    loss_reasons: list[int]
    tags: list[int]
    loyalty_id: int
    loyalty_options: list[int]
    turnover_id: int
    created_users: int = 0


async def _prepare_users() -> tuple[list[int], int]:
    created = 0
    if not await User.filter(email="admin@demo.local").exists():
        await users.create_user(
            email="admin@demo.local", full_name="Администратор", role=Role.ADMIN, actor=None
        )
        created += 1
    ids = []
    for i, name in enumerate(MANAGER_NAMES, start=1):
        email = f"manager{i:02d}@demo.local"
        user = await User.filter(email=email).first()
        if user is None:
            user = await users.create_user(
                email=email,
                full_name=name,
                phone=mobile_phone(i, salt=77),
                timezone=MANAGER_TIMEZONES[i - 1],
                actor=None,
            )
            created += 1
        ids.append(user.id)
    return ids, created


async def _find_scenarios() -> list[ScenarioInfo]:
    found = []
    for scenario in await Scenario.filter(is_active=True).order_by("-is_default", "id"):
        stages = await Stage.filter(scenario_id=scenario.id).order_by("position", "id")
        if stages:
            found.append(ScenarioInfo(scenario.id, [s.id for s in stages]))
    return found


async def _prepare_scenarios() -> list[ScenarioInfo]:
    """The active scenarios with stages; the demo ones are created when there are none."""
    found = await _find_scenarios()
    if not found:
        for name, is_default, stage_names in SCENARIOS:
            if not await Scenario.filter(name=name).exists():
                await scenarios.create_scenario(
                    name, list(stage_names), is_default=is_default, actor=None
                )
        found = await _find_scenarios()
    if not found:
        raise RuntimeError("demo data needs an active scenario with stages")
    return found


async def _prepare_fields() -> tuple[int, list[int], int]:
    loyalty = await FieldDefinition.filter(name="Лояльность", belongs_to=BelongsTo.ALL).first()
    turnover = await FieldDefinition.filter(
        name="Годовой оборот, млн ₽", belongs_to=BelongsTo.LEGAL
    ).first()
    if loyalty is None or turnover is None:
        section = await FieldSection.filter(name="Маркетинг").first()
        if section is None:
            section = await fields.create_section("Маркетинг", actor=None)
        if loyalty is None:
            loyalty = await fields.create_field(
                name="Лояльность",
                type=FieldType.LIST,
                options=("Высокая", "Средняя", "Низкая"),
                section_id=section.id,
                actor=None,
            )
        if turnover is None:
            turnover = await fields.create_field(
                name="Годовой оборот, млн ₽",
                type=FieldType.NUMBER,
                belongs_to=BelongsTo.LEGAL,
                section_id=section.id,
                actor=None,
            )
    options = await FieldOption.filter(definition_id=loyalty.id).order_by("position", "id")
    return loyalty.id, [o.id for o in options], turnover.id


async def _prepare() -> Setup:
    managers, created = await _prepare_users()
    for text in LOSS_REASONS:
        if not await Reason.filter(kind=ReasonKind.LOSS, text=text).exists():
            await scenarios.add_reason(ReasonKind.LOSS, text, actor=None)
    reasons = await Reason.filter(kind=ReasonKind.LOSS, is_active=True).order_by("position", "id")
    tags = [(await Tag.get_or_create(name=name))[0].id for name in TAGS]
    loyalty_id, loyalty_options, turnover_id = await _prepare_fields()
    return Setup(
        managers=managers,
        scenarios=await _prepare_scenarios(),
        loss_reasons=[r.id for r in reasons],
        tags=tags,
        loyalty_id=loyalty_id,
        loyalty_options=loyalty_options,
        turnover_id=turnover_id,
        created_users=created,
    )


# --- the bulk -------------------------------------------------------------------------------


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
        self.regions = _weighted({r: BIG_REGIONS.get(r, 2) for r in REGION_TIMEZONES})
        self.relations = _weighted(
            {"buyer": 75, "supplier": 8, "competitor": 2, "government": 3, "founder": 1,
             "other": 11}
        )  # fmt: skip
        self.org_forms = _weighted({form: weight for form, weight, _ in ORG_FORMS})
        self.full_forms = {form: full for form, _, full in ORG_FORMS}
        self.kinds = _weighted(
            {"call": 35, "email": 20, "message": 20, "meeting": 10, "note": 8, "sms": 3, "task": 4}
        )
        self.planned_kinds = _weighted({"call": 50, "meeting": 15, "email": 15, "task": 20})
        self.interest_counts = [0] * 30 + [1] * 45 + [2] * 18 + [3] * 7
        default, *others = self.setup.scenarios
        self.scenario_pool = [default] * 4 + others
        self.female_patronymics = [p[:-3] + "вна" for p in PATRONYMICS]
        self.latin: dict[str, str] = {}

    def chunk(self, n: int) -> Rows:
        self.rows = {table: [] for table in COLUMNS}
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
            domain = f"{self._lat(brand)}-{_base36(cid)}.ru"  # unique per client
            inn = inn10(f"{code:02d}{_permute(cid, 10**7, 1_234_567):07d}")
            card = ("legal", f"{form} «{brand}»", f"{self.full_forms[form]} «{brand}»", inn,
                    inn[:4] + "01001", form, None, None)  # fmt: skip
        else:
            person = self._person(r.random() < 0.55)
            sole = x < 0.55
            inn12_ = inn12(f"{code:02d}{_permute(cid, 10**8, 7_654_321):08d}")
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
        for _ in range(count):
            self._interest(cid, created, responsible, legal=domain is not None)
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
        span = max(end - start, 60)
        for i in range(stage + 1):
            at = _at(start + span * i // (stage + 1))
            self.rows["stage_changes"].append(
                (self._id("stage_changes"), at, at, iid, stages[i - 1] if i else None, stages[i],
                 responsible, True, 0, "")
            )  # fmt: skip
        times = sorted(start + int(r.random() * span) for _ in range(1 + int(r.random() ** 2 * 5)))
        for moment in times:
            self._past(cid, iid, responsible, moment)
        if status == "open" and r.random() < 0.9:
            self._planned(cid, iid, responsible, times[-1])

    def _past(self, cid: int, iid: int | None, responsible: int | None, moment: int) -> None:
        """A done (sometimes cancelled) interaction; about half of them had been planned."""
        r = self.rng
        kind = r.choice(self.kinds)
        cancelled = r.random() < 0.06
        planned = remind = reminded = None
        origin = moment
        if cancelled or r.random() < 0.55:
            origin = (moment - r.randrange(0, 7200)) // 900 * 900
            planned, remind = _at(origin), _at(origin - LEAD)
            reminded = remind if r.random() < 0.9 else None
        at = _at(moment)
        self.rows["interactions"].append((
            self._id("interactions"), _at(origin - r.randrange(600, 3 * DAY)), at, cid, iid,
            responsible, kind, r.choice(SUBJECTS[kind]), "" if cancelled else r.choice(RESULTS),
            "cancelled" if cancelled else "done", planned, None if cancelled else at,
            planned if cancelled else at, remind, reminded, None,
        ))  # fmt: skip

    def _planned(self, cid: int, iid: int, responsible: int | None, last: int) -> None:
        """The next step: mostly in the future, some overdue (reminded or not yet)."""
        r, now = self.rng, self.now_ts
        reminded = nagged = None
        if r.random() < 0.15:
            planned = (now - r.randrange(600, 14 * DAY)) // 900 * 900
            if r.random() < 0.75:
                reminded = _at(planned - LEAD + r.randrange(0, 60))
                if planned < now - 3600 and r.random() < 0.6:
                    nagged = _at(min(planned + 3600 + r.randrange(0, 300), now))
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


# --- writing --------------------------------------------------------------------------------


class CopyWriter:
    """PostgreSQL: COPY each table of a chunk in one transaction.

    As a superuser it skips the foreign key triggers (`session_replication_role = replica`,
    what pg_restore --disable-triggers does): they cost more than the COPY itself, and the
    rows point only at ids allocated here or read from the database just before."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.skip_triggers: bool | None = None

    async def write(self, rows: Rows) -> None:
        if self.skip_triggers is None:
            self.skip_triggers = await self.conn.fetchval("SHOW is_superuser") == "on"
        async with self.conn.transaction():
            await self.conn.execute("SET LOCAL synchronous_commit TO off")
            if self.skip_triggers:
                await self.conn.execute("SET LOCAL session_replication_role TO replica")
            for table, columns in COLUMNS.items():
                if rows[table]:
                    await self.conn.copy_records_to_table(
                        table, records=rows[table], columns=columns
                    )

    async def finish(self, counts: Counter[str]) -> None:
        """Move each id sequence past the explicit ids, and refresh planner statistics."""
        for table, columns in COLUMNS.items():
            if counts[table] and columns[0] == "id":
                await self.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}"
                )
        await self.conn.execute(f"ANALYZE {', '.join(t for t in COLUMNS if counts[t])}")


class InsertWriter:
    """SQLite: executemany per table in one transaction (tortoise's connection autocommits)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def write(self, rows: Rows) -> None:
        await self.conn.execute("BEGIN")
        try:
            for table, columns in COLUMNS.items():
                if rows[table]:
                    marks = ", ".join("?" * len(columns))
                    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                    await self.conn.executemany(sql, rows[table])
        except BaseException:
            await self.conn.rollback()
            raise
        await self.conn.commit()

    async def finish(self, counts: Counter[str]) -> None:
        return None


async def _next_ids(conn: BaseDBAsyncClient) -> dict[str, int]:
    ids = {}
    for table, columns in COLUMNS.items():
        if columns[0] == "id":
            rows = await conn.execute_query_dict(f"SELECT MAX(id) AS top FROM {table}")
            ids[table] = int(rows[0]["top"] or 0) + 1
    return ids


def _chunks(total: int) -> Iterator[int]:
    done = 0
    while done < total:
        size = min(CHUNK, total - done)
        yield size
        done += size


async def generate(
    n_clients: int,
    *,
    seed: int = 1,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Add `n_clients` demo clients with their contacts, key persons, interests and
    interactions (times relative to `now`); the same seed gives the same data. Returns
    the number of rows added per table. Not meant to run beside other writers."""
    if n_clients < 0:
        raise ValueError("n_clients must not be negative")
    moment = now or clock.now()
    setup = await _prepare()
    conn = connections.get("default")
    builder = Builder(random.Random(seed), setup, await _next_ids(conn), moment)
    counts: Counter[str] = Counter()
    async with conn.acquire_connection() as raw:
        postgres = conn.capabilities.dialect == "postgres"
        writer = CopyWriter(raw) if postgres else InsertWriter(raw)
        done = 0
        async for rows in _pipelined(builder, n_clients, writer):
            counts.update({table: len(table_rows) for table, table_rows in rows.items()})
            done += len(rows["clients"])
            if progress is not None:
                progress(done, n_clients)
        await writer.finish(counts)
    return {"users": setup.created_users, **{table: counts[table] for table in COLUMNS}}


async def _pipelined(
    builder: Builder, total: int, writer: CopyWriter | InsertWriter
) -> AsyncIterator[Rows]:
    """Write chunk after chunk, generating the next one in a thread meanwhile (the database
    works on one core, Python on the other). Yields each chunk once it is written."""
    sizes = list(_chunks(total))
    if not sizes:
        return
    rows = await asyncio.to_thread(builder.chunk, sizes[0])
    for index in range(len(sizes)):
        following = (
            asyncio.ensure_future(asyncio.to_thread(builder.chunk, sizes[index + 1]))
            if index + 1 < len(sizes)
            else None
        )
        try:
            await writer.write(rows)
        finally:
            if following is not None and not following.done():
                await asyncio.wait([following])
        yield rows
        if following is not None:
            rows = following.result()
