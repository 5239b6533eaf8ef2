"""The `kam` command: serve, worker, scheduler, migrate, demo, createuser, token, import, manage."""

from __future__ import annotations

import argparse
import os
import sys


def _setup() -> None:
    """Django set up and the KAM settings checked: a bad one stops the command with one line."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
    import django

    django.setup()
    from kam.core.conf import ConfigError, check_config

    try:
        check_config()
    except ConfigError as exc:
        print(f"kam: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _manage(argv: list[str]) -> int:
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kam manage", *argv])
    return 0


def cmd_serve(args) -> int:
    """gunicorn for the pages, WORKER_PROCESSES background workers and the scheduler, all
    supervised (kam.core.supervisor): a worker or the scheduler that exits is restarted; if
    gunicorn exits, everything stops and so does `kam serve`, non-zero. Ctrl-C or SIGTERM
    stop them all. The static files are served collected (KAM_STATIC=collected, hashed names
    cached for a year) unless KAM_STATIC says otherwise."""
    os.environ.setdefault("KAM_STATIC", "collected")
    _setup()
    from django.conf import settings as django_settings
    from django.core.management import call_command
    from django.db import connections

    from kam.core.conf import config
    from kam.core.supervisor import Backoff, Program, Supervisor
    from kam.core.workers import run_worker

    if not args.no_migrate:
        call_command("migrate", interactive=False, verbosity=0)
    if getattr(django_settings, "STATIC_COLLECTED", False):
        call_command("collectstatic", interactive=False, verbosity=0)
    connections.close_all()  # the children open their own
    host = args.host or os.environ.get("HOST", "127.0.0.1")
    port = args.port or os.environ.get("PORT", "8000")
    workers, threads = serve_sizes(os.cpu_count() or 1, workers=args.workers or os.environ.get("KAM_WORKERS"),
                                   threads=args.threads or os.environ.get("KAM_THREADS"))
    grace = config().SERVE_STOP_GRACE_SECONDS
    background = config().WORKER_PROCESSES if args.background_workers is None else args.background_workers
    print(f"KAM is serving on http://{host}:{port}/", flush=True)
    gunicorn = [
        sys.executable, "-m", "gunicorn", "kam.wsgi:application",
        "--bind", f"{host}:{port}", "--workers", str(workers), "--threads", str(threads),
        "--worker-class", "gthread" if threads > 1 else "sync",
        "--access-logfile", "-", "--timeout", "120", "--graceful-timeout", str(int(grace)),
    ]
    programs = [Program("web", argv=gunicorn, essential=True)]
    if not args.no_worker:
        # Forked from this process, Django already loaded: a restart takes a moment, not seconds.
        programs += [
            Program(f"worker-{n}", target=lambda: run_worker(["--interval", "1", "--no-reload"]),
                    on_exit=_worker_exited)
            for n in range(1, background + 1)
        ]
        programs.append(Program("scheduler", target=lambda: cmd_scheduler(argparse.Namespace(interval=60, once=False))))
    settings = config()
    backoff = Backoff(first=settings.SERVE_RESTART_MIN_SECONDS, longest=settings.SERVE_RESTART_MAX_SECONDS,
                      reset_after=settings.SERVE_RESTART_RESET_SECONDS)
    return Supervisor(programs, backoff=backoff, grace=grace, before_fork=connections.close_all).run()


# A worker process holds Django and the apps (about 180 MB); its threads share them.
MAX_SERVE_WORKERS = 8
SERVE_THREADS = 4


def serve_sizes(cpus: int, *, workers: str | int | None = None, threads: str | int | None = None) -> tuple[int, int]:
    """gunicorn's worker processes and threads per worker: by default one process per core (at
    least two, so one busy request never holds up the site; at most MAX_SERVE_WORKERS) with
    SERVE_THREADS threads each, which wait on the database or a slow client side by side;
    --workers/--threads or KAM_WORKERS/KAM_THREADS override."""
    chosen_workers = int(workers) if workers else max(2, min(MAX_SERVE_WORKERS, cpus))
    chosen_threads = int(threads) if threads else SERVE_THREADS
    if chosen_workers < 1 or chosen_threads < 1:
        raise SystemExit("kam serve: workers and threads must be at least 1")
    return chosen_workers, chosen_threads


def _worker_exited(pid: int, reason: str) -> None:
    """A worker killed outright cannot say it stopped: record it at once, so its jobs show
    as interrupted now rather than when its heartbeat goes stale."""
    from django.db import connections

    from kam.core.workers import worker_id, worker_stopped

    try:
        worker_stopped(worker=worker_id(pid), reason=reason)
    finally:
        connections.close_all()


def cmd_scheduler(args) -> int:
    """Enqueue the nightly jobs once a day at KAM_NIGHTLY_AT; checks every --interval seconds."""
    _setup()
    import signal
    import time

    from django.db import close_old_connections

    from kam.core.schedule import nightly_enqueue

    # Stopped by `kam serve` (or systemd) with SIGTERM: leave cleanly, mid-transaction rolled back.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    while True:
        if jobs := nightly_enqueue():
            print(f"nightly jobs enqueued: {', '.join(jobs)}", flush=True)
        if args.once:
            return 0
        time.sleep(args.interval)
        close_old_connections()  # a long-lived process: let go of a connection the server dropped


def cmd_worker(args) -> int:
    """django-tasks-db's db_worker, registered in the worker registry with a heartbeat."""
    _setup()
    from kam.core.workers import run_worker

    return run_worker(args.rest)


def cmd_migrate(args) -> int:
    return _manage(["migrate", *args.rest])


def cmd_demo(args) -> int:
    _setup()
    from django.core.management import call_command

    from kam.demo import build_demo

    call_command("migrate", interactive=False, verbosity=0)  # a new data directory has no tables yet

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
        print(f"kam createuser: {exc.message}", file=sys.stderr)
        for field, problems in (exc.errors or {}).items():
            for problem in problems:
                print(f"  {field}: {problem}", file=sys.stderr)
        return 2
    print(f"created {user.username} ({user.get_role_display()}, {unit.name})")
    return 0


def cmd_token(args) -> int:
    """`kam token NAME [--days N] [--name LABEL]`: issue; `--list`; `--revoke ID|all`."""
    _setup()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from kam.core.errors import DomainError
    from kam.core.services import (
        api_token_issue,
        api_token_issued,
        api_token_list,
        api_tokens_revoke,
    )

    user = get_user_model().objects.filter(username=args.username).first()
    if user is None:
        print(f"kam token: no user {args.username!r}", file=sys.stderr)
        return 2

    def when(moment) -> str:
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"

    try:
        if args.list:
            print(f"{'id':>5}  {'name':<16} {'prefix':<9} {'created':<16}  {'last used':<16}  {'expires':<16}  state")
            for token in api_token_list(user=user):
                state = f"revoked {when(token.revoked_at)} ({token.get_revoked_because_display()})" \
                    if token.revoked_at else token.state
                print(f"{token.pk:>5}  {token.name[:16]:<16} {token.prefix:<9} {when(token.created_at):<16}  "
                      f"{when(token.last_used_at):<16}  {when(token.expires_at):<16}  {state}")
            return 0
        if args.revoke:
            if args.revoke != "all" and not args.revoke.isdigit():
                print("kam token: --revoke takes a token id (see --list) or all", file=sys.stderr)
                return 2
            revoked = api_tokens_revoke(user=user, token_id=None if args.revoke == "all" else int(args.revoke))
            print(f"{revoked} token{'s' if revoked != 1 else ''} of {user.username} revoked")
            return 0
        raw = api_token_issue(user=user, name=args.name, days=args.days)
    except DomainError as exc:
        print(f"kam token: {exc.message}", file=sys.stderr)
        return 2
    token = api_token_issued(raw)
    print(raw)
    # On stderr, so that TOKEN=$(kam token NAME) captures the token alone.
    print(f"token {token.pk} ({token.name}) for {user.username}, expires {when(token.expires_at)}; "
          "it is shown only now — keep it somewhere safe", file=sys.stderr)
    return 0


def cmd_logins(args) -> int:
    """Print the users a newcomer can log in as, one role each, with the demo password."""
    _setup()
    from django.contrib.auth import get_user_model

    from kam.core.conf import config
    from kam.demo import demo_logins

    users = get_user_model().objects.filter(is_active=True).select_related("unit").order_by("unit__path", "role", "username")
    if not args.all and (chosen := demo_logins()):
        users = chosen
    print(f"  Demo logins (password {config().DEMO_PASSWORD!r} unless changed):")
    for user in users:
        print(f"    {user.username:<16} {user.get_role_display():<24} {user.unit.name if user.unit else ''}")
    return 0


class _Bar:
    """A one-line progress bar on stderr, redrawn at most every 1 %."""

    def __init__(self, enabled: bool):
        self.enabled, self.last = enabled, (None, -1)

    def __call__(self, phase: str, done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 100
        if not self.enabled or (phase, percent) == self.last:
            return
        self.last = (phase, percent)
        filled = percent * 30 // 100
        label = {"check": "checking ", "import": "importing"}.get(phase, phase)
        end = "\n" if done >= total else ""
        print(f"\r{label} [{'#' * filled}{'.' * (30 - filled)}] {percent:3d}% {done}/{total}", end=end,
              file=sys.stderr, flush=True)


def cmd_import(args) -> int:
    """`kam import accounts|contacts FILE`: check, print the preview, then import."""
    _setup()
    import json
    from pathlib import Path

    from django.contrib.auth import get_user_model

    from kam.core.errors import DomainError
    from kam.core.models import Role
    from kam.imports import services
    from kam.imports.models import JobState

    users = get_user_model().objects.filter(is_active=True)
    user = (users.filter(username=args.user) if args.user else users.filter(role=Role.ADMIN).order_by("id")).first()
    if user is None:
        print(f"kam import: no active user {args.user!r}" if args.user else "kam import: no admin user; pass --user",
              file=sys.stderr)
        return 2
    path = Path(args.file)
    if not path.is_file():
        print(f"kam import: no such file {args.file}", file=sys.stderr)
        return 2
    data = path.read_bytes()
    bar = _Bar(enabled=not args.json and not args.quiet and sys.stderr.isatty() or args.progress)
    try:
        import hashlib

        job = None if args.restart else services.import_job_resumable(
            actor=user, kind=args.kind, sha256=hashlib.sha256(data).hexdigest()
        )
        if job is not None:
            if not args.json:
                print(f"resuming import #{job.pk} after row {job.rows_done} of {job.total_rows}", file=sys.stderr)
        else:
            options = {"create_accounts": True} if args.create_accounts else {}
            job = services.import_job_create(actor=user, kind=args.kind, filename=path.name, data=data,
                                             options=options, keep_table=True)
            job = services.import_job_check(job_id=job.pk, progress=bar)
            if args.dry_run or job.preview["counts"]["invalid"] + job.preview["counts"]["refused"] and args.mode == "all":
                return _import_result(job, args, json, dry_run=True)
            job = services.import_job_confirm(actor=user, job=job, mode=args.mode,
                                              include_duplicates=args.include_duplicates)
            job.refresh_from_db()
            if job.state not in (JobState.QUEUED, JobState.RUNNING):
                return _import_result(job, args, json)
        job = services.import_job_run(job_id=job.pk, progress=bar)
    except DomainError as exc:
        detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in (exc.errors or {}).items())
        if args.json:
            print(json.dumps({"error": exc.message, "errors": exc.errors}, ensure_ascii=False))
        else:
            print(f"kam import: {exc.message} {detail}".rstrip(), file=sys.stderr)
        return 2
    return _import_result(job, args, json)


def _import_result(job, args, json, dry_run: bool = False) -> int:
    from kam.imports.models import JobState

    counts = job.preview.get("counts", {}) if dry_run or job.state == JobState.REJECTED else {
        "create": job.created, "update": job.updated, "unchanged": job.unchanged,
        "duplicate": job.duplicates, "refused": job.refused, "invalid": job.invalid,
    }
    issues = job.preview.get("issues", [])
    blocking = counts.get("invalid", 0) + counts.get("refused", 0)
    result = {
        "job": job.pk, "file": job.filename, "kind": job.kind, "rows": job.total_rows,
        "state": "checked" if dry_run else job.state, "dry_run": dry_run, "mode": args.mode,
        "counts": counts, "ignored_columns": job.preview.get("ignored", []), "issues": issues, "issue_count": job.preview.get("issue_count", len(issues)),
        "report": job.report.path if job.report else None,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(f"{job.filename}: {job.total_rows} rows — " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        if ignored := job.preview.get("ignored"):
            print(f"  columns not recognised, ignored: {', '.join(ignored)}")
        for issue in issues[: args.show]:
            print(f"  row {issue['row']}, {issue['column']}: {issue['message']}")
        if result["issue_count"] > args.show:
            print(f"  … {result['issue_count'] - args.show} more in the report")
        if result["report"]:
            print(f"  error report: {result['report']}")
        if dry_run:
            print("  dry run: nothing written" if args.dry_run else
                  "  nothing written: fix the rows above or use --mode valid to import the valid rows only")
        elif job.state == JobState.REJECTED:
            print(f"  {job.message}")
    if dry_run:
        return 1 if blocking else 0
    return 0 if job.state == JobState.DONE else 1


def cmd_tier(args) -> int:
    """`kam tier run|export SCHEME --as-of DATE`: compute and store a snapshot, print or write it."""
    _setup()
    import json
    from datetime import date

    from django.contrib.auth import get_user_model

    from kam.core.errors import DomainError
    from kam.core.exports import csv_text, csv_writer
    from kam.core.models import Role
    from kam.tiering.models import Scheme
    from kam.tiering.services import snapshot_create

    if args.action == "export" and not args.csv:
        print("kam tier export: give the file to write with --csv FILE", file=sys.stderr)
        return 2
    try:
        as_of = date.fromisoformat(args.as_of)
    except ValueError:
        print(f"kam tier: --as-of must be a date such as 2026-06-30, not {args.as_of!r}", file=sys.stderr)
        return 2
    scheme = Scheme.objects.filter(code=args.scheme).first()
    if scheme is None:
        codes = ", ".join(Scheme.objects.values_list("code", flat=True))
        print(f"kam tier: no scheme {args.scheme!r} (schemes: {codes})", file=sys.stderr)
        return 2
    users = get_user_model().objects.filter(is_active=True)
    actor = (users.filter(username=args.user) if args.user else users.filter(role=Role.ADMIN).order_by("id")).first()
    bar = _Bar(enabled=not getattr(args, "json", False) and sys.stderr.isatty())
    try:
        snapshot = snapshot_create(actor=actor, scheme=scheme, as_of=as_of, progress=bar)
    except DomainError as exc:
        print(f"kam tier: {exc.message}", file=sys.stderr)
        return 2
    if args.action == "export":
        rows = snapshot.entries.order_by("account__code").values_list("account__code", "tier").iterator(chunk_size=5000)
        with open(args.csv, "w", newline="", encoding="utf-8") as handle:
            writer = csv_writer(handle)  # codes are typed by people: safe to open in Excel too
            writer.writerow(["account_code", "tier"])
            writer.writerows([csv_text(code), csv_text(tier)] for code, tier in rows)
        print(f"{snapshot.accounts} accounts written to {args.csv}", file=sys.stderr)
        return 0
    result = {
        "scheme": scheme.code, "as_of": as_of.isoformat(), "window_start": snapshot.window_start.isoformat(),
        "snapshot": snapshot.pk, "accounts": snapshot.accounts,
        "tiers": {code: snapshot.summary.get(code, {"count": 0, "revenue": "0", "share": 0.0})
                  for code in dict.fromkeys([*scheme.tier_codes, *snapshot.summary])},
        "flags": snapshot.flags,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(f"{scheme} as of {as_of} (window from {snapshot.window_start}): {snapshot.accounts} accounts")
        for code, row in result["tiers"].items():
            print(f"  {scheme.tier_label(code):<16} {row['count']:>9}  {row['revenue']:>18} 元  {row['share']:.1%}")
        for flag in snapshot.flags:
            print(f"  ! cap exceeded: {flag}")
    return 0


def cmd_remind(args) -> int:
    """`kam remind`: reminder tasks for the visits and calls falling due soon (run nightly)."""
    _setup()
    from datetime import date

    from kam.activities.tasks import create_cadence_reminders

    if args.as_of:
        try:
            date.fromisoformat(args.as_of)
        except ValueError:
            print(f"kam remind: --as-of must be a date such as 2026-06-30, not {args.as_of!r}", file=sys.stderr)
            return 2
    created = create_cadence_reminders.call(args.scheme or "", args.as_of or "")
    print(f"{created} reminder task(s) created")
    return 0


def _actor(args):
    from django.contrib.auth import get_user_model

    from kam.core.models import Role

    users = get_user_model().objects.filter(is_active=True)
    return (users.filter(username=args.actor) if args.actor else users.filter(role=Role.ADMIN).order_by("id")).first()


def cmd_plan(args) -> int:
    """`kam plan visits --user U --month YYYY-MM`: plan a person's visits for a month as tasks."""
    _setup()
    import json
    from datetime import date

    from django.contrib.auth import get_user_model

    from kam.activities.planning.services import visit_plan_create
    from kam.core.errors import DomainError

    try:
        year, month = (int(part) for part in args.month.split("-"))
        first = date(year, month, 1)
    except ValueError:
        print(f"kam plan: --month must be a month such as 2026-05, not {args.month!r}", file=sys.stderr)
        return 2
    actor = _actor(args)
    person = get_user_model().objects.filter(username=args.user, is_active=True).first()
    if actor is None:
        print("kam plan: no such acting user", file=sys.stderr)
        return 2
    try:
        plan = visit_plan_create(actor=actor, user=person, month=first)
    except DomainError as exc:
        message = exc.message if person is not None and exc.status != 404 else f"no user {args.user!r} you may plan for"
        print(f"kam plan: {message}", file=sys.stderr)
        return 2
    result = {
        "user": args.user, "month": f"{first:%Y-%m}", "required": plan.required, "placed": plan.placed,
        "capacity": plan.capacity, "tasks": {"created": plan.created, "kept": plan.kept, "removed": plan.removed},
        "visits": [{"day": v.day.isoformat(), "account": v.account_id, "name": plan.names.get(v.account_id, ""),
                    "region": v.region} for v in plan.visits],
        "unplaced": [{"account": pk, "name": plan.names.get(pk, ""), "visits": n} for pk, n in plan.unplaced.items()],
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    print(f"{args.user} {result['month']}: {plan.placed} of {plan.required} visits planned "
          f"(room for {plan.capacity}); tasks {plan.created} new, {plan.kept} kept, {plan.removed} removed")
    for day, visits in plan.by_day().items():
        print(f"  {day:%Y-%m-%d %a}  " + ", ".join(f"{plan.names.get(v.account_id, v.account_id)}"
                                                  f"{' [' + v.region + ']' if v.region else ''}" for v in visits))
    for item in result["unplaced"]:
        print(f"  ! did not fit: {item['name']} ×{item['visits']}")
    return 0


def cmd_staffing(args) -> int:
    """`kam staffing --unit CODE [--growth N | --growth TIER=N,…]`: managers required vs present."""
    _setup()
    import json

    from kam.activities.staffing.selectors import staffing_for
    from kam.core.conf import config
    from kam.core.models import OrgUnit
    from kam.tiering.models import Scheme

    growth = None
    if args.growth:
        try:
            growth = (dict((t.strip(), int(n)) for t, n in (part.split("=") for part in args.growth.split(",")))
                      if "=" in args.growth else int(args.growth))
        except ValueError:
            print(f"kam staffing: --growth takes a number or TIER=N,…, not {args.growth!r}", file=sys.stderr)
            return 2
    scheme = Scheme.objects.filter(code=args.scheme or config().CADENCE_SCHEME).first()
    unit = OrgUnit.objects.filter(code=args.unit).first()
    actor = _actor(args)
    rows = staffing_for(user=actor, unit=unit, scheme=scheme, growth=growth) if actor and unit and scheme else []
    if not rows:
        print(f"kam staffing: no unit {args.unit!r} you may see" if scheme else "kam staffing: no such scheme",
              file=sys.stderr)
        return 2

    def need(s) -> dict:
        return {"accounts": s.accounts, "hours": str(s.hours), "required": str(s.required),
                "required_headcount": s.required_headcount, "present": s.present, "gap": s.gap,
                "tiers": [{"tier": t.tier, "accounts": t.accounts, "hours_per_account": str(t.hours_per_account),
                           "hours": str(t.hours)} for t in s.tiers]}

    result = {"scheme": scheme.code, "unit": unit.code,
              "units": [{"unit": r.unit.code, "name": r.unit.name, **need(r.now)} for r in rows]}
    if rows[0].next_year is not None:
        result["next_year"] = need(rows[0].next_year)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    for r in rows:
        print(f"{r.unit.code:<12} {r.unit.name:<16} accounts {r.now.accounts:>7}  hours {r.now.hours:>10.0f}  "
              f"required {r.now.required:>8}  present {r.now.present:>5}  gap {r.now.gap:>5}")
    if rows[0].next_year is not None:
        n = rows[0].next_year
        print(f"next year: accounts {n.accounts}, required {n.required} ({n.required_headcount}), gap {n.gap}")
    return 0


def cmd_insight(args) -> int:
    """`kam insight fit --model M --transactions FILE --calibration-end DATE`: fit a customer-base
    model on a CSV of transactions and print its parameters (no database needed).
    `kam insight fit --from-db [--calibration-end DATE]`: fit on the revenue facts, store the fit
    and score every account."""
    import json
    from datetime import date

    from kam.insight.forecast.maths import bgnbd, gammagamma, paretonbd
    from kam.insight.forecast.maths.transactions import (
        TransactionFileError,
        read_transactions_csv,
        summarise,
    )

    end = None
    if args.calibration_end is not None:
        try:
            end = date.fromisoformat(args.calibration_end)
        except ValueError:
            print(f"kam insight: --calibration-end must be a date such as 1997-09-30, not {args.calibration_end!r}",
                  file=sys.stderr)
            return 2
    if args.from_db:
        return _insight_from_db(args, end)
    if end is None:
        print("kam insight: --transactions needs --calibration-end", file=sys.stderr)
        return 2
    args.model, args.period = args.model or "bgnbd", args.period or "week"
    try:
        transactions = read_transactions_csv(args.transactions)
    except FileNotFoundError:
        print(f"kam insight: no such file {args.transactions}", file=sys.stderr)
        return 2
    except TransactionFileError as exc:
        print(f"kam insight: {args.transactions}: {exc}", file=sys.stderr)
        return 2
    summary = summarise(transactions, calibration_end=end, period=args.period)
    try:
        if args.model == "gammagamma":
            fitted = gammagamma.fit(summary.frequency, summary.mean_value)
        else:
            model = bgnbd if args.model == "bgnbd" else paretonbd
            fitted = model.fit(summary.frequency, summary.recency, summary.age)
    except ValueError as exc:
        print(f"kam insight: {exc}", file=sys.stderr)
        return 2
    result = {
        "model": args.model, "calibration_end": end.isoformat(), "period": args.period,
        "customers": fitted.customers, "parameters": fitted.parameters,
        "log_likelihood": fitted.log_likelihood, "converged": fitted.converged,
    }
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        parameters = ", ".join(f"{name} = {value:.4g}" for name, value in fitted.parameters.items())
        print(f"{args.model} on {fitted.customers} customers to {end} (per {args.period}): {parameters}; "
              f"log-likelihood {fitted.log_likelihood:.1f}" + ("" if fitted.converged else " (did not converge)"))
    return 0 if fitted.converged else 1


def _insight_from_db(args, end) -> int:
    """Fit on the revenue facts up to `end` (default yesterday), store the fit, score the accounts."""
    import json
    from datetime import timedelta

    if args.model == "gammagamma":
        print("kam insight: with --from-db the spend model is fitted beside the count model; "
              "--model takes bgnbd or paretonbd", file=sys.stderr)
        return 2
    _setup()
    from django.utils import timezone

    from kam.core.errors import DomainError
    from kam.insight.forecast.services import fit_from_database

    end = end or timezone.localdate() - timedelta(days=1)
    try:
        fitted = fit_from_database(calibration_end=end, period=args.period, count_model=args.model)
    except DomainError as exc:
        print(f"kam insight: {exc.message}", file=sys.stderr)
        return 2
    from kam.insight.forecast.services import ordered_parameters

    fit = fitted.fit
    count_params = ordered_parameters(fit.count_params)
    spend_params = ordered_parameters(fit.spend_params) if fit.spend_params else None
    result = {
        "fit": fit.pk, "model": fit.count_model, "period": fit.period, "window_start": fit.window_start.isoformat(),
        "calibration_end": fit.calibration_end.isoformat(), "customers": fit.customers,
        "repeat_customers": fit.repeat_customers, "parameters": count_params,
        "log_likelihood": fit.count_log_likelihood, "spend_parameters": spend_params,
        "spend_log_likelihood": fit.spend_log_likelihood, "converged": fit.converged,
        "scored": fitted.scored, "removed": fitted.removed, "seconds": fit.seconds, "notes": fitted.notes,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        parameters = ", ".join(f"{name} = {value:.4g}" for name, value in count_params.items())
        print(f"{fit.count_model} on {fit.customers} accounts from {fit.window_start} to {fit.calibration_end} "
              f"(per {fit.period}): {parameters}; log-likelihood {fit.count_log_likelihood:.1f}"
              + ("" if fit.converged else " (did not converge)"))
        if spend_params:
            spend = ", ".join(f"{name} = {value:.4g}" for name, value in spend_params.items())
            print(f"gammagamma on {fit.repeat_customers} repeat buyers: {spend}; "
                  f"log-likelihood {fit.spend_log_likelihood:.1f}")
        for note in fitted.notes:
            print(note)
        print(f"{fitted.scored} accounts scored, {fitted.removed} scores removed, {fit.seconds:.1f} s")
    return 0 if fit.converged else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kam", description="KAM — key-account management")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the site with gunicorn")
    p.add_argument("--host")
    p.add_argument("--port")
    p.add_argument("--workers", help="gunicorn worker processes (default: one per core, at least 2; KAM_WORKERS)")
    p.add_argument("--threads", help=f"threads per worker process (default {SERVE_THREADS}; KAM_THREADS)")
    p.add_argument("--no-migrate", action="store_true")
    p.add_argument("--no-worker", action="store_true", help="start no background worker and no scheduler")
    p.add_argument("--background-workers", type=int, metavar="N",
                   help="background worker processes to run (default: the WORKER_PROCESSES setting)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("scheduler", help="enqueue the nightly jobs once a day (kam serve starts it)")
    p.add_argument("--interval", type=int, default=60)
    p.add_argument("--once", action="store_true", help="check once and exit (for cron)")
    p.set_defaults(func=cmd_scheduler)
    p = sub.add_parser("worker", help="run background tasks (django-tasks-db's db_worker options)")
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

    p = sub.add_parser("token", help="issue a user an API token (printed once), list or revoke their tokens")
    p.add_argument("username")
    p.add_argument("--name", default="cli", help="what the token is for")
    p.add_argument("--days", type=int, help="days the new token is valid (default: the API_TOKEN_DAYS setting)")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="list the user's tokens")
    action.add_argument("--revoke", metavar="ID", help="revoke the token with this id, or all of the user's")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("import", help="import accounts, contacts or revenue from .xlsx or .csv")
    p.add_argument("kind", choices=["accounts", "contacts", "revenue"])
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="check and report only; write nothing")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--mode", choices=["all", "valid"], default="all",
                   help="all: nothing is written if any row is invalid (default); valid: import the valid rows")
    p.add_argument("--include-duplicates", action="store_true", help="also create rows that look like duplicates")
    p.add_argument("--create-accounts", action="store_true",
                   help="revenue: create unknown account codes as unidentified (待识别) accounts")
    p.add_argument("--user", help="import as this user (default: the first admin)")
    p.add_argument("--restart", action="store_true", help="start afresh instead of resuming an interrupted run")
    p.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--show", type=int, default=20, help="issues to list")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("tier", help="compute a tier snapshot (run) or write it as CSV (export)")
    p.add_argument("action", choices=["run", "export"])
    p.add_argument("scheme", help="scheme code, e.g. pareto-abc")
    p.add_argument("--as-of", required=True, help="YYYY-MM-DD")
    p.add_argument("--json", action="store_true")
    p.add_argument("--csv", help="export: the file to write (account_code,tier)")
    p.add_argument("--user", help="run as this user (default: the first admin)")
    p.set_defaults(func=cmd_tier)

    p = sub.add_parser("remind", help="create reminder tasks for visits and calls falling due (nightly)")
    p.add_argument("--scheme", help="scheme code (default: the CADENCE_SCHEME setting)")
    p.add_argument("--as-of", help="YYYY-MM-DD (default: today)")
    p.set_defaults(func=cmd_remind)

    p = sub.add_parser("plan", help="plan a person's visits for a month as tasks")
    p.add_argument("what", choices=["visits"])
    p.add_argument("--user", required=True, help="whose visits")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--actor", help="plan as this user (default: the first admin)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("staffing", help="account managers required vs present per unit")
    p.add_argument("--unit", required=True, help="org unit code")
    p.add_argument("--growth", help="expected new accounts next year: N, or TIER=N,…")
    p.add_argument("--scheme", help="scheme code (default: CADENCE_SCHEME)")
    p.add_argument("--actor", help="as this user (default: the first admin)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_staffing)

    p = sub.add_parser("insight", help="customer-base models: fit BG/NBD, Pareto/NBD or gamma-gamma")
    insight = p.add_subparsers(dest="action", required=True)
    p = insight.add_parser("fit", help="fit a model and print its parameters and log-likelihood")
    p.add_argument("--model", choices=["bgnbd", "paretonbd", "gammagamma"],
                   help="default: bgnbd for a file, INSIGHT_COUNT_MODEL from the database")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--transactions", metavar="FILE", help="CSV with the header customer,date,amount")
    source.add_argument("--from-db", action="store_true",
                        help="fit on the revenue facts, store the fit and score every account")
    p.add_argument("--calibration-end", help="last day of the calibration window, YYYY-MM-DD "
                                             "(required with a file; from the database default yesterday)")
    p.add_argument("--period", choices=["week", "month"],
                   help="the unit of time (default: week for a file, INSIGHT_PERIOD from the database)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_insight)

    p = sub.add_parser("logins", help="list users to log in as")
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=cmd_logins)

    p = sub.add_parser("rebuild-summaries", help="rebuild the read models (summary tables) from the raw facts")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda a: _manage(["rebuild_summaries", *a.rest]))

    p = sub.add_parser("reindex-search", help="rebuild the index of Chinese character pairs the account search reads")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda a: _manage(["reindex_search", *a.rest]))

    p = sub.add_parser("manage", help="run any Django management command")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda a: _manage(a.rest))
    return parser


PASS_THROUGH = {"migrate": ["migrate"], "manage": [], "rebuild-summaries": ["rebuild_summaries"],
                "reindex-search": ["reindex_search"]}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # These hand every remaining option to Django untouched (argparse would eat "-v0").
    if argv and argv[0] in PASS_THROUGH and not {"-h", "--help"} & set(argv[:1]):
        return _manage(PASS_THROUGH[argv[0]] + argv[1:])
    if argv and argv[0] == "worker":  # db_worker's options, untouched likewise
        return cmd_worker(argparse.Namespace(rest=argv[1:]))
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
