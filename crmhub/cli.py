"""The `crmhub` command."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from crm import db
from crm.config import Settings, load_settings, settings_locale
from crm.errors import BadSetting, CrmError
from crm.i18n import N_, gettext
from crmhub.cli_channels import channel_commands, user_id

Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]
# what `demo-data` added, table by table
DEMO_TABLES = {
    "users": N_("Users"),
    "clients": N_("Clients"),
    "client_contacts": N_("Phones and emails"),
    "client_tags": N_("Tags of clients"),
    "contact_persons": N_("Key persons"),
    "field_values": N_("Custom field values"),
    "interests": N_("Deals"),
    "stage_changes": N_("Stage changes"),
    "interactions": N_("Interactions"),
    "channel_identities": N_("Customers' channel accounts"),
    "conversations": N_("Conversations"),
    "messages": N_("Messages"),
    "inquiries": N_("Inquiries"),
    "invoices": N_("Invoices"),
    "payments": N_("Payments"),
}


def _t(settings: Settings, message: str, **params: Any) -> str:
    """`message` (marked with N_) in the installation's language (CRMHUB_DEFAULT_LOCALE)."""
    return gettext(message, settings.default_locale, **params)


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from crmhub.runtime import serve

    if args.role:
        settings.role = args.role
    await serve(settings)
    return 0


async def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    def progress(event: str, app: str, name: str) -> None:
        if event == "apply_done":
            print(_t(settings, N_("Applied {migration}"), migration=f"{app}.{name}"))

    try:
        await db.migrate(settings.db_url(), progress=progress)
    finally:
        await db.close()  # the migrations' SQLite thread would keep the process alive
    print(_t(settings, N_("The database is up to date")))
    return 0


async def cmd_createadmin(settings: Settings, args: argparse.Namespace) -> int:
    from crm import users
    from crm.models import Role

    password = args.password or _password_asked()
    if not password:
        message = N_(
            "No password given: pass --password, run the command in a terminal, or give the "
            "password on standard input"
        )
        print(f"error: {gettext(message, settings.default_locale)}", file=sys.stderr)
        return 2
    await db.migrate(settings.db_url())
    async with db.session(settings.db_url()):
        user = await users.create_user(
            email=args.email,
            full_name=args.name,
            role=Role.ADMIN,
            password=password,
            locale=settings.default_locale,
            timezone=settings.default_timezone,
            actor=None,
        )
    print(_t(settings, N_("Administrator #{id} {email} created"), id=user.id, email=user.email))
    return 0


def _password_asked() -> str:
    """Asked at a terminal; else the first line of standard input (`... | crmhub
    createadmin`); empty when there is none."""
    try:
        if sys.stdin is not None and sys.stdin.isatty():
            return getpass.getpass("Password: ")
        return (sys.stdin.readline() if sys.stdin is not None else "").rstrip("\r\n")
    except EOFError:
        return ""


async def cmd_demo_data(settings: Settings, args: argparse.Namespace) -> int:
    from crm import demo

    await db.migrate(settings.db_url())
    async with db.session(settings.db_url()):
        stats = await demo.generate(args.clients, seed=args.seed, progress=_progress)
    print()
    added = ", ".join(
        f"{_t(settings, DEMO_TABLES[k]) if k in DEMO_TABLES else k}: {v}" for k, v in stats.items()
    )
    print(_t(settings, N_("Added: {counts}"), counts=added))
    return 0


async def cmd_user_invite(settings: Settings, args: argparse.Namespace) -> int:
    from crm import users
    from crm.models import User

    async with db.session(settings.db_url()):
        user = await User.filter(email=args.email.strip().lower()).first()
        if user is None:
            print(_t(settings, N_("No user {email}"), email=args.email), file=sys.stderr)
            return 1
        invite = await users.create_invite(user.id, actor=None)
    bot = args.bot or "your_manager_bot"
    print(f"https://t.me/{bot}?start={invite.code}")
    until = f"{invite.expires_at:%Y-%m-%d %H:%M}"
    print(_t(settings, N_("Code: {code} (valid until {until} UTC)"), code=invite.code, until=until))
    return 0


async def cmd_import_clients(settings: Settings, args: argparse.Namespace) -> int:
    """Import clients from CSV/XLSX: the panel's import, with a progress bar here."""
    import secrets
    import shutil
    from pathlib import Path

    from crm.imports.files import TARGET_NAMES, guess_mapping, heading_key, open_table
    from crm.imports.jobs import create_job, run_job
    from crm.imports.values import ImportOptions

    source = Path(args.file)
    table = open_table(source, source.name)  # an unreadable file is refused before anything
    await db.migrate(settings.db_url())
    async with db.session(settings.db_url()):
        mapping = await guess_mapping(table.headers)
        keys = [heading_key(h) for h in table.headers]
        for item in args.map or []:
            column, _, target = item.partition("=")
            index = int(column) - 1 if column.isdigit() else keys.index(heading_key(column))
            mapping[index] = target.strip()
        for index, heading in enumerate(table.headers):
            target = mapping.get(index) or ""
            shown = _t(settings, N_("(skipped)"))
            if target:  # the key one types in --map, and what it means
                name = TARGET_NAMES.get(target)
                shown = f"{target} ({_t(settings, name)})" if name else target
            print(f"  {heading!r} -> {shown}")
        # a folder of this run's own: a second import of the same file name must not
        # overwrite the first one's copy, nor share its retention
        folder = settings.data_dir / "imports" / f"cli-{secrets.token_hex(8)}"
        folder.mkdir(parents=True)
        stored = folder / source.name
        shutil.copyfile(source, stored)
        job = await create_job(
            path=stored,
            filename=source.name,
            options=ImportOptions(
                mapping={i: t for i, t in mapping.items() if t},
                kind=args.kind,
                relation_type=args.relation,
                tag=args.tag or "",
                dedup=tuple(k for k in args.dedup.split(",") if k),
                responsible_id=await user_id(settings, args.responsible),
            ),
            actor=None,
        )
        job = await run_job(
            job.id,
            locale=settings.default_locale,
            progress=lambda o: _progress(o.processed, o.total),
        )
    print()
    if job.error:
        print(_t(settings, N_("error: {reason}"), reason=job.error), file=sys.stderr)
        return 1
    print(
        _t(
            settings,
            N_("Created {created}, updated {updated}, skipped {skipped}"),
            created=job.created,
            updated=job.updated,
            skipped=job.skipped,
        )
    )
    if job.failed_path:
        print(_t(settings, N_("Rows that failed, with reasons: {path}"), path=job.failed_path))
    return 0


def _import_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imp = sub.add_parser("import", help="import data").add_subparsers(
        dest="import_command", required=True
    )
    p = imp.add_parser("clients", help="import clients from a CSV or XLSX file")
    p.add_argument("file")
    p.add_argument(
        "--map",
        action="append",
        metavar="COLUMN=FIELD",
        help="heading or 1-based column number = name, inn, phone, email, "
        "field:<id>, ... or empty to skip; repeat (default: remembered or guessed)",
    )
    p.add_argument("--kind", choices=["auto", "legal", "individual"], default="auto")
    p.add_argument("--relation", default="buyer", help="relation type of new clients")
    p.add_argument("--tag", help="tag the imported clients")
    p.add_argument(
        "--dedup",
        default="inn,email,phone",
        help="update a client matching these instead of creating a twin",
    )
    p.add_argument("--responsible", help="email of the responsible user of new clients")
    p.set_defaults(func=cmd_import_clients)


def _progress(done: int, total: int) -> None:
    width = 40
    filled = int(width * done / max(total, 1))
    sys.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    sys.stdout.flush()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crmhub", description="Messaging-first CRM")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="apply migrations, start web, hub, bot and scheduler")
    run.add_argument(
        "--role",
        choices=["all", "web", "worker"],
        help="web: pages, API and webhooks; worker: inbox processing, outbox, robots, "
        "pollers, reminders; all (default, or CRMHUB_ROLE): both in one process",
    )
    run.set_defaults(func=cmd_run)
    sub.add_parser("migrate", help="apply pending migrations").set_defaults(func=cmd_migrate)
    admin = sub.add_parser("createadmin", help="create an administrator")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True)
    admin.add_argument("--password", help="asked for when omitted")
    admin.set_defaults(func=cmd_createadmin)
    demo = sub.add_parser("demo-data", help="fill the database with realistic demo data")
    demo.add_argument("--clients", type=int, default=1000)
    demo.add_argument("--seed", type=int, default=1)
    demo.set_defaults(func=cmd_demo_data)
    user = sub.add_parser("user", help="users").add_subparsers(dest="user_command", required=True)
    invite = user.add_parser("invite", help="print a Telegram invite link for a user")
    invite.add_argument("email")
    invite.add_argument("--bot", help="the manager bot's username")
    invite.set_defaults(func=cmd_user_invite)
    channel_commands(sub)
    _import_commands(sub)
    return parser


def _refused(exc: CrmError, locale: str) -> int:
    if isinstance(exc, BadSetting):  # one line per variable: its name, what to do
        for name, message in exc.field_messages(locale).items():
            print(f"error: {name}: {message}", file=sys.stderr)
        return 2
    print(f"error: {exc.render(locale)}", file=sys.stderr)
    for name, message in exc.field_messages(locale).items():
        print(f"  {name}: {message}", file=sys.stderr)
    return 2


def _uses_data_dir(settings: Settings, args: argparse.Namespace) -> bool:
    """`run` and `import` keep files there; any command, the SQLite file or secret key."""
    return (
        args.command in ("run", "import") or not settings.database_url or not (settings.secret_key)
    )


async def _started(func: Command, settings: Settings, args: argparse.Namespace) -> int:
    await db.check_reachable(settings.db_url())  # a bad CRMHUB_DATABASE_URL: one line
    return await func(settings, args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("tortoise").setLevel(logging.WARNING)  # no start-up/shut-down lines
    func: Command = args.func
    try:
        settings = load_settings()
    except CrmError as exc:
        return _refused(exc, settings_locale())
    try:
        if _uses_data_dir(settings, args):
            settings.check_data_dir()
        return asyncio.run(_started(func, settings, args))
    except CrmError as exc:
        return _refused(exc, settings.default_locale)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
