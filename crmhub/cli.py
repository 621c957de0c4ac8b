"""The `crmhub` command."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Awaitable, Callable

from crm import db
from crm.config import Settings
from crm.errors import CrmError

Command = Callable[[Settings, argparse.Namespace], Awaitable[int]]


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from crmhub.runtime import serve

    await serve(settings)
    return 0


async def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    def progress(event: str, app: str, name: str) -> None:
        if event == "apply_done":
            print(f"applied {app}.{name}")

    await db.migrate(settings.db_url(), progress=progress)
    print("database is up to date")
    return 0


async def cmd_createadmin(settings: Settings, args: argparse.Namespace) -> int:
    from crm import users
    from crm.models import Role

    password = args.password or getpass.getpass("Password: ")
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
    print(f"admin #{user.id} {user.email} created")
    return 0


async def cmd_demo_data(settings: Settings, args: argparse.Namespace) -> int:
    from crm import demo

    await db.migrate(settings.db_url())
    async with db.session(settings.db_url()):
        stats = await demo.generate(args.clients, seed=args.seed, progress=_progress)
    print()
    print(", ".join(f"{k}: {v}" for k, v in stats.items()))
    return 0


async def cmd_user_invite(settings: Settings, args: argparse.Namespace) -> int:
    from crm import users
    from crm.models import User

    async with db.session(settings.db_url()):
        user = await User.filter(email=args.email.strip().lower()).first()
        if user is None:
            print(f"no user {args.email}", file=sys.stderr)
            return 1
        invite = await users.create_invite(user.id, actor=None)
    bot = args.bot or "your_manager_bot"
    print(f"https://t.me/{bot}?start={invite.code}")
    print(f"code: {invite.code} (valid until {invite.expires_at:%Y-%m-%d %H:%M} UTC)")
    return 0


def _progress(done: int, total: int) -> None:
    width = 40
    filled = int(width * done / max(total, 1))
    sys.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    sys.stdout.flush()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crmhub", description="Messaging-first CRM")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="apply migrations, start web, hub, bot and scheduler").set_defaults(
        func=cmd_run
    )
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    func: Command = args.func
    try:
        return asyncio.run(func(settings, args))
    except CrmError as exc:
        print(f"error: {exc.render(settings.default_locale)}", file=sys.stderr)
        for name, message in exc.field_messages(settings.default_locale).items():
            print(f"  {name}: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
