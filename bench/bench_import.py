"""KAM's import engine against django-import-export, on the same file, in the same run.

    python bench/bench_import.py --rows 100000 --repeat 3
    bash .ci/postgres.sh .venv/bin/python bench/bench_import.py      # on PostgreSQL

Generates one deterministic set of account rows (10 columns, all valid, unique codes,
USCCs and names, owners are demo users) and writes it as .xlsx and as .csv (UTF-8 with
BOM). For each format it times, into an empty account table:

- KAM: the whole path of `kam import`: upload (import_job_create, keeping the table it
  read for the check, as the command line does) → check, the preview (import_job_check)
  → confirm, mode "valid" (import_job_confirm) → run (import_job_run, called directly:
  the task backend is the dummy one, so the confirm only records the job as queued);
- the baseline, django-import-export 4.x: tablib.Dataset().load(file) and
  ModelResource.import_data(dataset, dry_run=False, use_transactions=True), once with
  the library's defaults ("plain": a query per row to find it, one per foreign key
  cell, save() per row — which also writes a django-simple-history row — and a
  diff per row) and once with its documented fast options ("bulk": use_bulk,
  batch_size=1000, skip_diff, CachedInstanceLoader). KAM is compared with the faster.

A baseline variant whose --repeat runs of all rows would take more than 10 minutes
(estimated from a 1,000-row warm-up) runs on the first 10,000 rows instead; rows/s are
compared, and the output says so. The median of --repeat runs is reported.

Database: SQLite in --home (default var/bench-import; KAM_HOME is ignored, since `make`
points it at the app's own data), or DATABASE_URL when set. The benchmark deletes every
account, so it refuses a database that it did not set up itself. --profile runs KAM's
path once per format under cProfile and prints the top functions instead.

The 行业 (industry) and 地区 (region) columns can be left out with --without 行业,地区.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import pstats
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from benchlib import empty, setup, timed_import

TARGET_RATIO = 5.0
TARGET_SECONDS = 60.0  # for 100,000 rows, on PostgreSQL
BASELINE_BUDGET_S = 600.0  # a variant whose repeats are estimated above this runs on a slice
BASELINE_SLICE = 10_000
WARMUP_ROWS = 1_000
MARKER = "bench_import database"  # a mapping template that marks the benchmark's own database
HEADERS = ["客户编号", "客户名称", "统一社会信用代码", "行业", "地区", "客户经理", "电话", "地址", "年营业额", "签约日期"]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CITIES = [("4401", "广州市", "广州", "020"), ("4403", "深圳市", "深圳", "0755"), ("4406", "佛山市", "佛山", "0757"),
          ("4419", "东莞市", "东莞", "0769")]
BRAND = list("华金盛宏鑫达祥瑞丰泰兴隆昌恒通源嘉伟天宇立信海新中南粤美长远创和力安康")
WORDS = ["新材料", "精密机械", "电子", "物流", "信息技术", "医疗器械", "商贸", "能源", "建设工程", "文化传媒"]
FORMS = ["有限公司", "股份有限公司", "有限责任公司"]
ROADS = ["天河路", "深南大道", "季华路", "东莞大道", "中山大道", "滨海大道"]


# --- data ---------------------------------------------------------------------------------


def _uscc_body(n: int) -> str:
    """Nine distinct organisation-code characters per n (an injective base-31 scramble)."""
    value = (n * 7_919 + 104_729) % 31**9
    chars = []
    for _ in range(9):
        value, digit = divmod(value, 31)
        chars.append(USCC_ALPHABET[digit])
    return "".join(chars)


def make_rows(count: int, seed: int, industries: list[str], owners: list[str]) -> list[list]:
    from kam.core.validators import uscc_complete

    rng = random.Random(seed)
    today = date(2026, 11, 1)
    rows = []
    for n in range(1, count + 1):
        code4, city, short, area = rng.choice(CITIES)
        name = f"{short}{rng.choice(BRAND)}{rng.choice(BRAND)}{rng.choice(WORDS)}{n:06d}{rng.choice(FORMS)}"
        revenue = Decimal(rng.lognormvariate(15.5, 1.4)).quantize(Decimal("1.00"))
        signed = today - timedelta(days=rng.randint(20, 2500)) if rng.random() < 0.7 else None
        rows.append([
            f"IMP{n:07d}", name, uscc_complete(f"91{code4}01{_uscc_body(n)}"), rng.choice(industries), city,
            rng.choice(owners), f"{area}-{rng.randint(30000000, 89999999)}",
            f"{short}{rng.choice(ROADS)}{rng.randint(1, 999)}号", revenue, signed,
        ])
    return rows


def to_xlsx(rows: list[list], columns: list[int]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("客户")
    sheet.append([HEADERS[i] for i in columns])
    for row in rows:
        # Amounts as numbers and dates as dates, as Excel holds them.
        sheet.append([float(row[i]) if isinstance(row[i], Decimal) else row[i] for i in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(rows: list[list], columns: list[int]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([HEADERS[i] for i in columns])
    for row in rows:
        writer.writerow(["" if row[i] is None else row[i].isoformat() if isinstance(row[i], date) else str(row[i])
                         for i in columns])
    return out.getvalue().encode("utf-8-sig")


# --- the database between runs --------------------------------------------------------------


def empty_accounts() -> None:
    """Delete accounts, everything hanging off them, their history and import jobs (and the files
    the jobs kept)."""
    from kam.accounts.models import Account
    from kam.imports.models import ImportJob

    empty(Account, ImportJob)
    settle()


def settle() -> None:
    """PostgreSQL: reclaim the deleted rows and refresh statistics, so each run starts alike."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def assert_created(n: int, what: str) -> None:
    from kam.accounts.models import Account

    count = Account.objects.count()
    assert count == n, f"{what}: {count:,} accounts in the table, expected {n:,}"


# --- the two import paths ---------------------------------------------------------------------


def kam_import(actor, filename: str, data: bytes, n: int) -> dict[str, float]:
    job, phases = timed_import(actor, "accounts", filename, data)
    assert job.preview["counts"]["create"] == n, job.preview
    assert job.state == "done" and job.created == n, (job.state, job.created, job.message, job.preview)
    assert_created(n, "KAM")
    return phases


def baseline_resources(headers: list[str]):
    from import_export import fields, resources, widgets
    from import_export.instance_loaders import CachedInstanceLoader

    from kam.accounts.models import Account
    from kam.core.models import Industry, Region, User

    # file header → (model attribute, widget): the mapping the django-import-export docs show.
    specs = {
        "客户编号": ("code", None),
        "客户名称": ("name", None),
        "统一社会信用代码": ("uscc", None),
        "行业": ("industry", widgets.ForeignKeyWidget(Industry, field="name")),
        "地区": ("region", widgets.ForeignKeyWidget(Region, field="name")),
        "客户经理": ("owner", widgets.ForeignKeyWidget(User, field="username")),
        "电话": ("phone", None),
        "地址": ("address", None),
        "年营业额": ("annual_revenue", widgets.DecimalWidget()),
        "签约日期": ("signed_on", widgets.DateWidget()),
    }
    declared = {attribute: fields.Field(attribute=attribute, column_name=header, widget=widget)
                for header, (attribute, widget) in specs.items() if header in headers}

    class Options:
        model = Account
        fields = tuple(declared)
        import_id_fields = ["code"]

    def before_save_instance(self, instance, row, **kwargs):
        # The account's unit is required and is the owner's (the widget has loaded the owner).
        instance.unit_id = instance.owner.unit_id
        instance.uscc = instance.uscc or None

    # Library defaults.
    plain = type("PlainAccountResource", (resources.ModelResource,),
                 {**declared, "Meta": Options, "before_save_instance": before_save_instance})

    class BulkOptions(Options):
        # The library's documented options for large imports.
        use_bulk = True
        batch_size = 1000
        skip_diff = True
        instance_loader_class = CachedInstanceLoader

    bulk = type("BulkAccountResource", (resources.ModelResource,),
                {**{k: fields.Field(attribute=f.attribute, column_name=f.column_name, widget=f.widget)
                    for k, f in declared.items()},
                 "Meta": BulkOptions, "before_save_instance": before_save_instance})
    return {"plain": plain, "bulk": bulk}


def baseline_import(resource_class, fmt: str, data: bytes, n: int) -> float:
    import tablib

    start = time.perf_counter()
    if fmt == "csv":
        dataset = tablib.Dataset().load(data.decode("utf-8-sig"), format="csv")
    else:
        dataset = tablib.Dataset().load(io.BytesIO(data), format="xlsx")
    result = resource_class().import_data(dataset, dry_run=False, use_transactions=True)
    elapsed = time.perf_counter() - start
    errors = [e.error for e in result.base_errors] + [e.error for _n, row in result.row_errors() for e in row]
    invalid = result.invalid_rows
    assert not errors and not invalid, f"baseline: {len(errors)} errors, {len(invalid)} invalid rows: {(errors or invalid)[:3]}"
    assert result.totals["new"] == n, result.totals
    assert_created(n, "baseline")
    return elapsed


# --- running -----------------------------------------------------------------------------------


def prepare():
    from django.core.management import call_command

    from kam.accounts.models import Account
    from kam.core.models import Industry, OrgUnit, Role, User
    from kam.demo import build_demo
    from kam.imports.models import MappingTemplate

    call_command("migrate", verbosity=0)
    if not (OrgUnit.objects.exists() or Account.objects.exists() or User.objects.exists()):
        print("building the demo organisation and users …", file=sys.stderr)
        build_demo(accounts=1, seed=2026, progress=False)
        MappingTemplate.objects.create(user=User.objects.get(username="director"), kind="accounts", name=MARKER)
    elif not MappingTemplate.objects.filter(name=MARKER).exists():
        raise SystemExit(
            "This database holds data the benchmark did not make, and the benchmark deletes every account.\n"
            "Run it on an empty database: its own --home directory (SQLite), or an empty DATABASE_URL "
            "(bash .ci/postgres.sh .venv/bin/python bench/bench_import.py)."
        )
    if Account.objects.exists():
        empty_accounts()
    industries = list(Industry.objects.filter(is_active=True).order_by("code").values_list("name", flat=True))
    owners = list(User.objects.filter(role=Role.SPECIALIST, is_active=True, unit__isnull=False)
                  .order_by("username").values_list("username", flat=True))
    actor = User.objects.get(username="director")
    return actor, industries, owners


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def profile_kam(actor, files: dict, n: int, formats: list[str], top: int) -> None:
    for fmt in formats:
        empty_accounts()
        profiler = cProfile.Profile()
        profiler.enable()
        phases = kam_import(actor, f"accounts.{fmt}", files[fmt], n)
        profiler.disable()
        print(f"\nKAM {fmt}, {n:,} rows: total {phases['total']:.1f} s "
              f"(upload {phases['upload']:.1f}, check {phases['check']:.1f}, run {phases['run']:.1f}) under cProfile")
        for key in ("tottime", "cumulative"):
            print(f"\n-- top {top} by {key} --")
            stats = pstats.Stats(profiler, stream=sys.stdout)
            stats.sort_stats(key).print_stats(top)
    empty_accounts()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--formats", default="xlsx,csv", help="comma-separated: xlsx,csv")
    parser.add_argument("--baseline-rows", type=int, default=0,
                        help="rows for the baseline (default: all, or 10,000 when all would take > 10 min)")
    parser.add_argument("--without", default="",
                        help="comma-separated headers to leave out of the file, e.g. 行业,地区")
    parser.add_argument("--no-baseline", action="store_true", help="time KAM only")
    parser.add_argument("--profile", action="store_true", help="run KAM once per format under cProfile")
    parser.add_argument("--top", type=int, default=30, help="functions listed by --profile")
    parser.add_argument("--home", default=str(Path("var") / "bench-import"))
    args = parser.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    without = {h.strip() for h in args.without.split(",") if h.strip()}
    unknown = without - set(HEADERS) | ({"客户编号", "客户名称", "客户经理"} & without)
    if unknown:
        parser.error(f"--without: cannot leave out {', '.join(sorted(unknown))}")
    columns = [i for i, header in enumerate(HEADERS) if header not in without]
    headers = [HEADERS[i] for i in columns]
    setup(args.home)

    from django.db import connection

    n = args.rows
    actor, industries, owners = prepare()
    started = time.perf_counter()
    rows = make_rows(n, args.seed, industries, owners)
    writers = {"xlsx": lambda part: to_xlsx(part, columns), "csv": lambda part: to_csv(part, columns)}
    files = {fmt: writers[fmt](rows) for fmt in formats}
    warm_rows = min(WARMUP_ROWS, n)
    warm = {fmt: writers[fmt](rows[:warm_rows]) for fmt in formats}
    generated = time.perf_counter() - started
    if connection.vendor == "postgresql":
        version = connection.pg_version
        version = f"{version // 10000}.{version % 10000}"
    else:
        version = __import__("sqlite3").sqlite_version
    sizes = ", ".join(f"{fmt} {len(files[fmt]) / 1e6:.1f} MB" for fmt in formats)
    print(f"data: {n:,} account rows × {len(headers)} columns ({sizes}; seed {args.seed}; generated in {generated:.1f} s)")
    if args.no_baseline:
        baseline = "no baseline"
    else:
        import import_export  # the bench extra: pip install -e '.[bench]'
        import tablib

        baseline = f"django-import-export {import_export.__version__}, tablib {tablib.__version__}"
    print(f"database: {connection.vendor} {version}; repeats: {args.repeat} (median reported); {baseline}")
    print(f"columns: {', '.join(headers)}; all rows valid and new; owners: {len(owners)} demo specialists"
          + (f"; left out: {', '.join(h for h in HEADERS if h in without)}" if without else ""))

    if args.profile:
        profile_kam(actor, files, n, formats, args.top)
        return 0

    resources = {} if args.no_baseline else baseline_resources(headers)
    results = {}
    for fmt in formats:
        print(f"\n== {fmt} ==", flush=True)
        # Warm-up: imports, translations and query plans, for both sides, untimed.
        empty_accounts()
        kam_import(actor, f"warm.{fmt}", warm[fmt], warm_rows)
        kam_runs = []
        for i in range(args.repeat):
            empty_accounts()
            phases = kam_import(actor, f"accounts.{fmt}", files[fmt], n)
            kam_runs.append(phases)
            print(f"  KAM run {i + 1}: {phases['total']:.1f} s (upload {phases['upload']:.1f}, "
                  f"check {phases['check']:.1f}, run {phases['run']:.1f})", flush=True)
        kam = {key: median([r[key] for r in kam_runs]) for key in kam_runs[0]}
        base = {}
        for variant, resource_class in resources.items():
            empty_accounts()
            warm_s = baseline_import(resource_class, fmt, warm[fmt], warm_rows)
            estimate = warm_s * n / warm_rows * args.repeat
            size = args.baseline_rows or (n if estimate <= BASELINE_BUDGET_S else min(n, BASELINE_SLICE))
            size = min(size, n)
            data = files[fmt] if size == n else writers[fmt](rows[:size])
            note = "" if size == n else (
                f" (on the first {size:,} rows: {args.repeat} runs of all {n:,} estimated at {estimate / 60:.0f} min)"
                if not args.baseline_rows else f" (on the first {size:,} rows, --baseline-rows)")
            samples = []
            for i in range(args.repeat):
                empty_accounts()
                samples.append(baseline_import(resource_class, fmt, data, size))
                print(f"  baseline {variant} run {i + 1}: {samples[-1]:.1f} s for {size:,} rows", flush=True)
            base[variant] = (size / median(samples), size, note)
        empty_accounts()
        results[fmt] = (kam, base)

    print(f"\nResults ({connection.vendor} {version}, {n:,} rows, median of {args.repeat})")
    print(f"  {'format':<7}{'KAM rows/s':>12}{'plain rows/s':>14}{'bulk rows/s':>13}{'ratio':>8}"
          f"{'KAM s/100k':>12}  targets")
    verdicts = []
    for fmt, (kam, base) in results.items():
        kam_rate = n / kam["total"]
        per_100k = kam["total"] * 100_000 / n
        plain = base.get("plain", (None,))[0]
        bulk = base.get("bulk", (None,))[0]
        faster = max((r for r in (plain, bulk) if r), default=None)
        ratio = kam_rate / faster if faster else None
        ok_ratio = ratio is not None and ratio >= TARGET_RATIO
        ok_time = per_100k < TARGET_SECONDS
        where = "" if connection.vendor == "postgresql" else " (time target is set for PostgreSQL)"
        cells = [f"{'-' if x is None else f'{x:,.0f}':>{w}}" for x, w in ((plain, 14), (bulk, 13))]
        print(f"  {fmt:<7}{kam_rate:>12,.0f}{''.join(cells)}{'-' if ratio is None else f'{ratio:.1f}x':>8}"
              f"{per_100k:>11.1f}{'*' if n != 100_000 else ' '}  "
              f"ratio>={TARGET_RATIO:.0f}x {'PASS' if ok_ratio else 'FAIL'}, "
              f"<{TARGET_SECONDS:.0f}s {'PASS' if ok_time else 'FAIL'}{where}")
        print(f"         KAM phases: upload {kam['upload']:.1f} s, check {kam['check']:.1f} s, run {kam['run']:.1f} s")
        for variant, (_rate, _size, note) in base.items():
            if note:
                print(f"         baseline {variant}{note}")
        verdicts.append(ok_ratio and (ok_time or connection.vendor != "postgresql"))
    if n != 100_000:
        print("  * extrapolated linearly from the measured rows")
    print("  ratio = KAM rows/s ÷ the faster baseline's rows/s (the baseline writes history rows only in"
          " 'plain', validates no USCC/phone, and fills no search keys)")
    print(f"\n{sum(verdicts)} of {len(verdicts)} formats meet their targets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
