"""The `kam` command: serve, worker, migrate, demo, createuser, token, manage."""

from __future__ import annotations

import argparse
import os
import sys


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
    import django

    django.setup()


def _manage(argv: list[str]) -> int:
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kam manage", *argv])
    return 0


def cmd_serve(args) -> int:
    _setup()
    from django.core.management import call_command

    if not args.no_migrate:
        call_command("migrate", interactive=False, verbosity=0)
    host = args.host or os.environ.get("HOST", "127.0.0.1")
    port = args.port or os.environ.get("PORT", "8000")
    workers = args.workers or os.environ.get("KAM_WORKERS", str(min(4, (os.cpu_count() or 1) * 2 + 1)))
    print(f"KAM is serving on http://{host}:{port}/", flush=True)
    gunicorn = [
        sys.executable, "-m", "gunicorn", "kam.wsgi:application",
        "--bind", f"{host}:{port}", "--workers", str(workers),
        "--access-logfile", "-", "--timeout", "120",
    ]
    os.execv(sys.executable, gunicorn)
    return 0  # pragma: no cover


def cmd_worker(args) -> int:
    return _manage(["db_worker", *args.rest])


def cmd_migrate(args) -> int:
    return _manage(["migrate", *args.rest])


def cmd_demo(args) -> int:
    _setup()
    from kam.demo import build_demo

    summary = build_demo(accounts=args.accounts, seed=args.seed, progress=not args.quiet, only_if_empty=args.if_empty)
    print(summary)
    return 0


def cmd_createuser(args) -> int:
    _setup()
    from kam.core.errors import DomainError
    from kam.core.models import OrgUnit
    from kam.core.services import user_create

    unit = OrgUnit.objects.filter(code=args.unit).first()
    if unit is None:
        print(f"kam createuser: no org unit with code {args.unit!r}", file=sys.stderr)
        return 2
    try:
        user = user_create(
            username=args.username, role=args.role, unit=unit, password=args.password,
            display_name=args.display_name or "",
        )
    except DomainError as exc:
        print(f"kam createuser: {exc.message} {exc.errors or ''}", file=sys.stderr)
        return 2
    print(f"created {user.username} ({user.get_role_display()}, {unit.name})")
    return 0


def cmd_token(args) -> int:
    _setup()
    from django.contrib.auth import get_user_model

    from kam.core.services import api_token_issue

    user = get_user_model().objects.filter(username=args.username, is_active=True).first()
    if user is None:
        print(f"kam token: no active user {args.username!r}", file=sys.stderr)
        return 2
    print(api_token_issue(user=user, name=args.name))
    return 0


def cmd_logins(args) -> int:
    """Print the users a newcomer can log in as, one role each, with the demo password."""
    _setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from kam.demo import demo_logins

    users = get_user_model().objects.filter(is_active=True).select_related("unit").order_by("unit__path", "role", "username")
    if not args.all and (chosen := demo_logins()):
        users = chosen
    print(f"  Demo logins (password {settings.KAM['DEMO_PASSWORD']!r} unless changed):")
    for user in users:
        print(f"    {user.username:<16} {user.get_role_display():<24} {user.unit.name if user.unit else ''}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kam", description="KAM — key-account management")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the site with gunicorn")
    p.add_argument("--host")
    p.add_argument("--port")
    p.add_argument("--workers")
    p.add_argument("--no-migrate", action="store_true")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run background tasks")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("demo", help="load the demo dataset")
    p.add_argument("--accounts", type=int, default=2000)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--if-empty", action="store_true", help="do nothing when accounts exist")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("createuser", help="create a user")
    p.add_argument("username")
    p.add_argument("--role", required=True)
    p.add_argument("--unit", required=True, help="org unit code")
    p.add_argument("--password")
    p.add_argument("--display-name")
    p.set_defaults(func=cmd_createuser)

    p = sub.add_parser("token", help="print a new API token for a user")
    p.add_argument("username")
    p.add_argument("--name", default="cli")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("logins", help="list users to log in as")
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=cmd_logins)

    p = sub.add_parser("manage", help="run any Django management command")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda a: _manage(a.rest))
    return parser


PASS_THROUGH = {"migrate": ["migrate"], "worker": ["db_worker"], "manage": []}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # These hand every remaining option to Django untouched (argparse would eat "-v0").
    if argv and argv[0] in PASS_THROUGH and not {"-h", "--help"} & set(argv[:1]):
        return _manage(PASS_THROUGH[argv[0]] + argv[1:])
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
