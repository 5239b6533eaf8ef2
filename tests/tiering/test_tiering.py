"""Revenue facts in, snapshots out: windows, the annual list, migration, what-if, and an
independent check against a public transaction file."""

from __future__ import annotations

import csv
import importlib.util
import os
from datetime import date
from decimal import Decimal

import pytest

from kam import cli
from kam.accounts.models import Account, LifecycleStatus
from kam.core.errors import PermissionDenied
from kam.revenue.models import MonthlyRevenue, RevenueFact
from kam.tiering import services
from kam.tiering.models import MoveDecision, Scheme
from spreadsheets import csv_bytes

REVENUE_HEADER = ["客户编号", "日期", "账期", "金额", "毛利", "产品"]


@pytest.fixture
def five_accounts(org, account_factory):
    return [account_factory(owner=owner, name=f"分级测试{n}号公司", code=f"T{n}")
            for n, owner in enumerate([org.specialist_a, org.specialist_a, org.specialist_a2, org.specialist_b,
                                       org.specialist_b], start=1)]


def test_revenue_lines_are_summed_replaced_and_aggregated_by_month(org, run_import, five_accounts):
    rows = [REVENUE_HEADER,
            ["T1", "2026-03-05", "", "1,000.00", "200", "宽带"],
            ["T1", "2026-03-05", "", "500", "", "宽带"],     # same account, day and product: summed
            ["T1", "", "2026-04", "2000", "", "专线"],       # a period row: the first of the month
            ["T2", "2026/3/9", "", "12.5万", "", ""],
            ["NOPE", "2026-03-01", "", "1", "", ""]]
    job = run_import(org.admin, "revenue", "rev.csv", csv_bytes(rows, "gb18030"), mode="valid")
    assert (job.created, job.invalid, job.unchanged) == (3, 1, 1), job.preview["issues"]
    t1 = five_accounts[0]
    assert RevenueFact.objects.get(account=t1, date=date(2026, 3, 5)).amount == Decimal("1500.00")
    assert RevenueFact.objects.get(account=t1, product="专线").date == date(2026, 4, 1)
    march = MonthlyRevenue.objects.get(account=t1, month=date(2026, 3, 1))
    assert (march.amount, march.margin, march.lines) == (Decimal("1500.00"), Decimal("200.00"), 1)
    assert "No account has the code or USCC NOPE." in str(job.preview["issues"])

    again = run_import(org.admin, "revenue", "rev.csv", csv_bytes(rows, "gb18030"), mode="valid")
    assert (again.created, again.updated) == (0, 0) and RevenueFact.objects.count() == 3

    rows[1][3], rows[2][3] = "100", "0"
    changed = run_import(org.admin, "revenue", "rev.csv", csv_bytes(rows, "gb18030"), mode="valid")
    assert changed.updated == 1
    assert MonthlyRevenue.objects.get(account=t1, month=date(2026, 3, 1)).amount == Decimal("100.00")


def test_unknown_accounts_can_be_created_as_unidentified_and_invisible_ones_are_refused(org, run_import, five_accounts):
    rows = [["account", "period", "amount"], ["NEW-1", "2026-01", "10"], ["T4", "2026-01", "10"]]
    from kam.imports import services as imports

    job = imports.import_job_create(actor=org.specialist_a, kind="revenue", filename="r.csv", data=csv_bytes(rows),
                                    options={"create_accounts": True})
    job = imports.import_job_check(job_id=job.pk)
    assert job.preview["counts"]["refused"] == 1 and job.preview["counts"]["create"] == 1
    job = run_import(org.specialist_a, "revenue", "r.csv", csv_bytes(rows[:2]), mode="valid")
    assert job.invalid == 1  # without the option the code is unknown
    from django.db import transaction

    with transaction.atomic():
        job = imports.import_job_create(actor=org.specialist_a, kind="revenue", filename="r.csv",
                                        data=csv_bytes(rows[:2]), options={"create_accounts": True})
    imports.import_job_check(job_id=job.pk)
    imports.ImportJob.objects.filter(pk=job.pk).update(state="queued", mode="valid")
    imports.import_job_run(job_id=job.pk)
    created = Account.objects.get(code="NEW-1")
    assert created.lifecycle_status == LifecycleStatus.UNIDENTIFIED and created.owner == org.specialist_a
    assert MonthlyRevenue.objects.get(account=created).amount == Decimal("10.00")


def _revenue(org, run_import, lines):
    rows = [["客户编号", "日期", "金额"], *lines]
    job = run_import(org.admin, "revenue", "r.csv", csv_bytes(rows))
    assert job.invalid == 0, job.preview["issues"]


def test_a_snapshot_uses_the_window_up_to_the_as_of_date_and_says_why(org, run_import, five_accounts):
    _revenue(org, run_import, [
        ["T1", "2025-07-01", "500"],   # first day of a 12-month window ending 2026-06-30
        ["T1", "2025-06-30", "9999"],  # the day before: outside
        ["T2", "2026-06-30", "300"],   # the as-of day itself: inside
        ["T3", "2026-07-01", "9999"],  # after the as-of date: outside
        ["T3", "2026-01-15", "100"],
        ["T4", "2026-02-01", "60"], ["T5", "2026-02-01", "40"],
    ])
    scheme = Scheme.objects.get(code="pareto-abc")
    snapshot = services.snapshot_create(actor=org.admin, scheme=scheme, as_of=date(2026, 6, 30))
    tiers = dict(snapshot.entries.values_list("account__code", "tier"))
    assert tiers == {"T1": "A", "T2": "A", "T3": "B", "T4": "B", "T5": "C"}
    assert snapshot.window_start == date(2025, 7, 1)
    assert snapshot.summary["A"] == {"count": 2, "revenue": "800", "share": 0.8}
    t3 = snapshot.entries.get(account__code="T3")
    assert (t3.rank, t3.revenue, t3.inputs["cum_share"]) == (3, Decimal("100.00"), 0.9)


def test_an_as_of_date_inside_a_month_counts_that_month_up_to_the_day_and_growth_reads_the_window_before(
        org, run_import, five_accounts):
    _revenue(org, run_import, [
        ["T1", "2026-06-14", "100"], ["T1", "2026-06-15", "50"],  # up to the as-of day: inside
        ["T2", "2026-06-16", "9999"],                               # later that month: outside
        ["T2", "2026-05-01", "150"],                                # T1 and T2 tie at 150: code decides
        ["T3", "2025-06-01", "100"], ["T3", "2025-06-30", "40"],    # the window starts 2025-07-01: before it
        ["T4", "2024-07-01", "500"], ["T4", "2024-06-30", "7"],     # first day of the window before; the day before
    ])
    facts = services.gather_facts("pareto", 12, date(2026, 6, 15))
    by_code = dict(zip(Account.objects.filter(pk__in=facts.ids.tolist()).order_by("id").values_list("code", flat=True),
                       facts.revenue.tolist(), strict=True))
    assert {c: by_code[c] for c in ("T1", "T2", "T3", "T4")} == {"T1": 15000, "T2": 15000, "T3": 0, "T4": 0}
    snapshot = services.snapshot_create(actor=org.admin, scheme=Scheme.objects.get(code="pareto-abc"),
                                        as_of=date(2026, 6, 15))
    ranks = dict(snapshot.entries.values_list("account__code", "rank"))
    assert (ranks["T1"], ranks["T2"], ranks["T3"]) == (1, 2, None)
    growth = services.gather_facts("bcg", 12, date(2026, 6, 15))
    previous = dict(zip(facts.ids.tolist(), growth.previous.tolist(), strict=True))
    t3, t4 = (Account.objects.get(code=c).pk for c in ("T3", "T4"))
    assert (previous[t3], previous[t4]) == (14000, 50000)
    assert facts.previous.sum() == 0  # pareto reads one window only
    one_month = services.gather_facts("monthly_spend", 1, date(2026, 6, 15))  # no whole month in it
    assert dict(zip(one_month.ids.tolist(), one_month.revenue.tolist(), strict=True))[t3] == 0
    assert sorted(one_month.revenue.tolist())[-1] == 15000  # T1: the first half of June


def test_the_annual_list_stays_fixed_and_the_migration_matrix_compares(org, run_import, five_accounts):
    _revenue(org, run_import, [["T1", "2026-01-10", "500"], ["T2", "2026-01-10", "300"], ["T3", "2026-01-10", "100"],
                               ["T4", "2026-01-10", "60"], ["T5", "2026-01-10", "40"]])
    scheme = Scheme.objects.get(code="pareto-abc")
    annual = services.snapshot_create(actor=org.admin, scheme=scheme, as_of=date(2026, 1, 31))
    with pytest.raises(PermissionDenied):
        services.snapshot_freeze(actor=org.manager_a, snapshot=annual, year=2026)
    services.snapshot_freeze(actor=org.director, snapshot=annual, year=2026)

    # T5 grows past T3 and T4
    _revenue(org, run_import, [["T5", "2026-02-10", "700"]])
    fresh = services.snapshot_create(actor=org.admin, scheme=scheme, as_of=date(2026, 2, 28))
    annual.refresh_from_db()
    assert dict(annual.entries.values_list("account__code", "tier"))["T5"] == "C"  # unchanged

    migration = services.snapshot_migration(annual, fresh)
    # fresh, of 1,700: T5 740 (43.5 %), T1 500 (72.9 %), T2 300 (A: 72.9 % before it), T3 100 (B: 90.6 %
    # before), T4 60 (C: 96.5 % before) → T5 moves C→A, T4 B→C, the others stay
    assert migration.counts == {("A", "A"): 2, ("B", "B"): 1, ("B", "C"): 1, ("C", "A"): 1}
    assert sorted((m[1], m[2]) for m in migration.moved) == [("B", "C"), ("C", "A")]
    assert migration.revenue[("C", "A")] == Decimal("740.00")

    t5 = five_accounts[4]
    services.tier_move_decide(actor=org.director, annual_list=annual, fresh=fresh, account=t5,
                              decision=MoveDecision.APPROVED, reason="年中新签大单")
    assert services.tiers_of(annual)[t5.pk] == "A"


def test_what_if_shows_counts_migration_and_owner_gains_before_saving(org, run_import, five_accounts):
    _revenue(org, run_import, [["T1", "2026-01-10", "500"], ["T2", "2026-01-10", "300"], ["T3", "2026-01-10", "100"],
                               ["T4", "2026-01-10", "60"], ["T5", "2026-01-10", "40"]])
    scheme = Scheme.objects.get(code="pareto-abc")
    before = Scheme.objects.get(pk=scheme.pk).params
    result = services.what_if(actor=org.admin, scheme=scheme, as_of=date(2026, 1, 31),
                              params={**scheme.params, "cuts": ["0.50", "0.95"]})
    assert result.summary["A"]["count"] == 1 and result.summary["B"]["count"] == 3
    assert result.migration.counts[("A", "B")] == 1  # T2 leaves A
    assert result.owners == [("张三", 0, 1)]
    assert Scheme.objects.get(pk=scheme.pk).params == before and not scheme.snapshots.exists()


def test_a_cap_breach_is_flagged_on_the_snapshot(org, run_import, five_accounts):
    _revenue(org, run_import, [["T1", "2026-01-10", "500"], ["T2", "2026-01-10", "300"]])
    scheme = Scheme.objects.get(code="pareto-abc")
    scheme.cap = {"tiers": ["A"], "max_share": "0.30", "capacity": 2000}
    scheme.save()
    snapshot = services.snapshot_create(actor=org.admin, scheme=scheme, as_of=date(2026, 1, 31))
    assert snapshot.flags and snapshot.flags[0]["volume"] == 800.0 and snapshot.flags[0]["limit"] == 600.0


def _cdnow() -> str:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None:
        pytest.skip("the lifetimes package (which ships the CDNOW data) is not installed")
    return os.path.join(spec.submodule_search_locations[0], "datasets", "CDNOW_master.txt")


def test_kam_tier_export_on_the_cdnow_file_agrees_with_an_independent_computation(org, tmp_path):
    import pandas as pd

    # given the CDNOW master file (23,570 customers, 69,659 purchases, 1997–1998) as revenue lines
    source = pd.read_csv(_cdnow(), sep=r"\s+", dtype={"customer_id": str, "date": str})
    source["account"] = "CD" + source["customer_id"]
    source["date"] = pd.to_datetime(source["date"], format="%Y%m%d")
    revenue = tmp_path / "cdnow.csv"
    source.assign(date=source["date"].dt.strftime("%Y-%m-%d"), amount=source["dollar_value"].map("{:.2f}".format))[
        ["account", "date", "amount"]].to_csv(revenue, index=False)
    assert cli.main(["import", "revenue", str(revenue), "--create-accounts", "--user", "admin", "--quiet"]) == 0
    for scheme_code, as_of in [("pareto-abc", "1998-06-30"), ("monthly-spend", "1997-12-31")]:
        _export_agrees(source, tmp_path, scheme_code, as_of)


def _export_agrees(source, tmp_path, scheme_code: str, as_of: str) -> None:
    import pandas as pd

    # when KAM exports the tiers
    out = tmp_path / "tiers.csv"
    assert cli.main(["tier", "export", scheme_code, "--as-of", as_of, "--csv", str(out)]) == 0
    with out.open(encoding="utf-8") as handle:
        reader = csv.reader(handle)
        assert next(reader) == ["account_code", "tier"]
        kam = dict(reader)

    # then pandas, computing the same rule its own way, agrees on every account
    scheme = Scheme.objects.get(code=scheme_code)
    end = pd.Timestamp(as_of)
    start = (end.to_period("M") - (scheme.window_months - 1)).to_timestamp()
    window = source[(source["date"] >= start) & (source["date"] <= end)]
    cents = (window["dollar_value"] * 100).round().astype("int64").groupby(window["account"]).sum()
    accounts = pd.Series(0, index=sorted(source["account"].unique()), dtype="int64")
    accounts.loc[cents.index] = cents
    if scheme_code == "pareto-abc":
        ranked = accounts.rename("cents").reset_index().rename(columns={"index": "code"})
        ranked = ranked.sort_values(["cents", "code"], ascending=[False, True])
        positive = ranked["cents"].clip(lower=0)
        before = positive.cumsum() - positive
        total = int(positive.sum())
        expected = pd.Series("C", index=ranked["code"].values)
        expected[(before * 100 < 95 * total).values] = "B"
        expected[(before * 100 < 80 * total).values] = "A"
        expected[(ranked["cents"] <= 0).values] = "C"
    else:
        monthly = accounts / scheme.window_months / 100
        bands = sorted(scheme.params["bands"], key=lambda b: float(b["min"]))
        expected = pd.Series("-", index=accounts.index)
        for band in bands:
            expected[(monthly >= float(band["min"])) & (accounts > 0)] = band["code"]
    assert len(kam) == len(expected) == 23_570
    assert kam == expected.to_dict()
    assert set(kam.values()) - {"-"}  # the rule did tier someone


@pytest.mark.parametrize("json_output", [False, True])
def test_kam_tier_run_prints_every_scheme_and_its_summary_holds_only_tiers(
        org, run_import, five_accounts, capsys, json_output):
    import json

    # given revenue in this year's window and the one before (growth for the matrices)
    _revenue(org, run_import, [["T1", "2026-03-01", "500"], ["T2", "2026-03-01", "300"], ["T3", "2025-03-01", "100"],
                               ["T3", "2026-03-01", "90"], ["T4", "2026-03-01", "60"], ["T5", "2025-03-01", "40"]])
    for scheme in Scheme.objects.filter(is_active=True):
        # when the command computes each scheme
        args = ["tier", "run", scheme.code, "--as-of", "2026-06-30", *(["--json"] if json_output else [])]
        assert cli.main(args) == 0, scheme.code
        out = capsys.readouterr().out
        snapshot = scheme.snapshots.latest("id")
        # then the summary is one entry per tier, and each tier it names is printed
        assert snapshot.summary and all(set(row) == {"count", "revenue", "share"} for row in snapshot.summary.values())
        assert sum(row["count"] for row in snapshot.summary.values()) == snapshot.accounts == 5
        if json_output:
            assert set(json.loads(out)["tiers"]) == set(scheme.tier_codes) | set(snapshot.summary)
        else:
            assert all(scheme.tier_label(code) in out for code in snapshot.summary)


def test_snapshots_stored_with_charts_among_their_tiers_are_migrated_apart(org):
    import importlib

    from django.apps import apps

    from kam.tiering.models import Snapshot

    migration = importlib.import_module("kam.tiering.migrations.0004_snapshot_charts")
    # given a snapshot as stored before charts had a field of their own
    tiers = {"A": {"count": 1, "revenue": "5", "share": 1.0}}
    curve = {"accounts": [100.0], "revenue": [5.0], "cumulative": [100.0]}
    snapshot = Snapshot.objects.create(scheme=Scheme.objects.get(code="bcg"), as_of=date(2026, 6, 30),
                                       window_start=date(2025, 7, 1), method="bcg", state="done",
                                       summary={**tiers, "curve": curve, "points": [[1, 5.0, None, "A"]]})
    # when the migration runs
    migration.move_charts(apps, None)
    # then the summary holds the tiers and the charts hold the rest
    snapshot.refresh_from_db()
    assert snapshot.summary == tiers
    assert snapshot.charts == {"curve": curve, "points": [[1, 5.0, None, "A"]]}


def test_kam_tier_export_writes_codes_that_open_as_text_and_import_back(org, run_import, account_factory, tmp_path):
    from kam.imports.readers import read_table

    account_factory(owner=org.specialist_a, code="=1+1", name="公式编号公司")
    _revenue(org, run_import, [["=1+1", "2026-03-01", "500"]])
    out = tmp_path / "tiers.csv"
    assert cli.main(["tier", "export", "pareto-abc", "--as-of", "2026-06-30", "--csv", str(out)]) == 0
    assert "'=1+1" in out.read_text(encoding="utf-8")
    table = read_table(out.read_bytes(), "tiers.csv", max_rows=10)
    assert [cells for _n, cells in table.rows] == [["=1+1", "A"]]


def test_a_bcg_snapshot_reads_margins_and_overdue_receivables_and_explains_each_quadrant(
        org, run_import, five_accounts, client):
    rows = [REVENUE_HEADER,
            # T1 is the largest and loses money; T2 large and steady; T5 small but growing ×4
            ["T1", "2026-03-01", "", "10000", "-800", ""], ["T1", "2025-03-01", "", "9000", "", ""],
            ["T2", "2026-03-01", "", "8000", "900", ""], ["T2", "2025-03-01", "", "7800", "", ""],
            ["T3", "2026-03-01", "", "6000", "", ""], ["T3", "2025-03-01", "", "6000", "", ""],
            ["T4", "2026-03-01", "", "3000", "", ""], ["T4", "2025-03-01", "", "3000", "", ""],
            ["T5", "2026-03-01", "", "4000", "", ""], ["T5", "2025-03-01", "", "1000", "", ""]]
    assert run_import(org.admin, "revenue", "rev.csv", csv_bytes(rows)).invalid == 0
    Account.objects.filter(code="T4").update(receivables_over_90_days=Decimal("500"))  # ≥ 10 % of 3,000
    snapshot = services.snapshot_create(actor=org.admin, scheme=Scheme.objects.get(code="bcg"),
                                        as_of=date(2026, 6, 30))
    tiers = dict(snapshot.entries.values_list("account__code", "tier"))
    assert tiers["T1"] == "wildcat"  # the largest customer, but at a loss
    assert tiers["T4"] == "wildcat"  # long-overdue receivables
    assert tiers["T5"] == "star"     # 4,000 today, projected 8,000 ≥ the top half's 6,000
    assert tiers["T3"] == "dog" and tiers["T2"] == "dog"  # T2: not in the top 20 % once T1 holds it
    entries = {e.account.code: e for e in snapshot.entries.select_related("account")}
    from kam.tiering.explain import why
    assert why(snapshot, entries["T1"]).startswith("Loses us money or harms the brand: margin rate -8.0 %")
    assert "receivables over 90 days 500 元" in why(snapshot, entries["T4"])
    assert "projected 8,000 元 against a large value of 6,000 元" in why(snapshot, entries["T5"])
    assert "no margins imported" in why(snapshot, entries["T3"])
    client.force_login(org.admin)
    page = client.get(f"/tiering/bcg/?snapshot={snapshot.pk}", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="tier-group"' in page and "价值客户" in page and "明星 + 金牛" in page
    stars_and_cows = client.get(f"/tiering/bcg/?snapshot={snapshot.pk}&tier=group:value").content.decode()
    listed = stars_and_cows.split('data-testid="tier-entries"', 1)[1]
    assert "分级测试5号公司" in listed and "分级测试1号公司" not in listed


def test_the_migration_gives_a_stored_bcg_scheme_the_sources_parameters_and_the_value_group(org):
    from django.apps import apps

    migration = importlib.import_module("kam.tiering.migrations.0006_bcg_as_the_sources_define_it")
    scheme = Scheme.objects.get(code="bcg")
    scheme.params = {"tiers": ["star", "cow", "wildcat", "dog"], "value_share": "0.25", "growth_cut": "0.10"}
    scheme.tiers = [{k: v for k, v in t.items() if k != "group"} for t in scheme.tiers]
    scheme.save()
    migration.forward(apps, None)
    scheme.refresh_from_db()
    assert scheme.params["value_share"] == "0.25" and scheme.params["growth_cut"] == "0.20"
    assert scheme.params["overdue_share"] == "0.10" and scheme.group_codes("value") == ["star", "cow"]


def test_revenue_lines_may_carry_their_cost_and_the_margin_is_the_amount_less_the_cost(org, run_import, five_accounts):
    rows = [["客户编号", "日期", "金额", "成本", "毛利"],
            ["T1", "2026-03-01", "1000", "700", ""],
            ["T2", "2026-03-01", "500", "450", "60"],   # 500 − 450 is 50, not 60: refused, named
            ["T3", "2026-03-01", "800", "", "100"]]
    job = run_import(org.admin, "revenue", "cost.csv", csv_bytes(rows), mode="valid")
    assert (job.created, job.invalid) == (2, 1)
    assert RevenueFact.objects.get(account__code="T1").margin == Decimal("300.00")
    assert RevenueFact.objects.get(account__code="T3").margin == Decimal("100.00")
    assert not RevenueFact.objects.filter(account__code="T2").exists()
    assert "is not the amount less the cost" in str(job.preview["issues"])


def test_rated_accounts_take_their_portfolio_place_from_the_scorecard(org, run_import, five_accounts, client):
    from kam.tiering.explain import why
    from kam.tiering.models import Assessment

    _revenue(org, run_import, [["T1", "2026-03-01", "500"], ["T2", "2026-03-01", "300"], ["T3", "2026-03-01", "100"]])
    t1, t2 = five_accounts[0], five_accounts[1]
    # the largest account rated low on every indicator, the second high
    client.force_login(org.specialist_a)
    low = {name: "1" for name in ("differentiation", "value_for_price", "preference", "key_people", "buying_rules")}
    assert client.post(f"/tiering/accounts/{t1.pk}/assessment/", low).status_code == 302
    services.assessment_save(actor=org.specialist_a, account=t2, values={"differentiation": 5, "value_for_price": 5,
                                                                       "preference": 5, "key_people": 5,
                                                                       "buying_rules": 5})
    from kam.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as bad:
        services.assessment_save(actor=org.specialist_a, account=t2, values={"preference": 9})
    assert bad.value.errors == {"preference": ["Rate from 1 to 5."]}
    snapshot = services.snapshot_create(actor=org.admin, scheme=Scheme.objects.get(code="portfolio"),
                                        as_of=date(2026, 6, 30))
    entries = {e.account.code: e for e in snapshot.entries.select_related("account")}
    assert entries["T1"].inputs["attractiveness"] == "low" and entries["T2"].inputs["attractiveness"] == "high"
    assert entries["T3"].inputs["attractiveness_source"] == "rank"
    assert "Attractiveness low (scorecard 0.3)" in why(snapshot, entries["T1"])
    assert "by revenue rank: not rated" in why(snapshot, entries["T3"])
    assert Assessment.history.filter(account_id=t1.pk).exists()
    # another branch's specialist may not rate it
    client.force_login(org.specialist_b)
    assert client.get(f"/tiering/accounts/{t1.pk}/assessment/").status_code == 404
