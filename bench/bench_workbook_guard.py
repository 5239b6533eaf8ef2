"""What the workbook guard costs on a legitimate upload, against reading the same file.

    python bench/bench_workbook_guard.py --rows 100000 --repeat 5

Generates bench_import's deterministic account rows (10 columns: codes, names, USCCs, industry,
city, owner, phone, address, revenue as a number, signing date as a date) and writes them as
an .xlsx with openpyxl. Then, in the same run, --repeat times each:

- guard: kam.imports.guard.check_xlsx — the zip directory, every part inflated in 1 MB chunks,
  the shared strings and the first sheet scanned for the limits;
- baseline: plain openpyxl, load_workbook(read_only=True) and every row of the first sheet
  as values (the streaming reader a guard would otherwise be written around);
- calamine: what KAM's reader does after the guard (python-calamine, every row as values).

It prints the data size, the median CPU time (process_time) and wall time of each, and the
ratios guard ÷ openpyxl and guard ÷ calamine. No database is touched.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import setup  # noqa: E402


def timed(fn, repeat: int) -> tuple[float, float]:
    cpu, wall = [], []
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(cpu), statistics.median(wall)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--home", default=str(Path("var") / "bench-guard"))
    args = parser.parse_args(argv)
    setup(args.home)

    from bench_import import make_rows, to_xlsx
    from openpyxl import load_workbook
    from python_calamine import CalamineWorkbook

    from kam.imports.guard import Limits, check_xlsx

    rows = make_rows(args.rows, 2026, ["制造业", "批发和零售业", "信息技术"], ["spec1", "spec2", "spec3"])
    data = to_xlsx(rows, list(range(10)))
    limits = Limits.from_settings()

    def guard():
        check_xlsx(data, limits)

    def baseline():
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        for _row in book.worksheets[0].iter_rows(values_only=True):
            pass
        book.close()

    def calamine():
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        for _row in book.get_sheet_by_index(0).iter_rows():
            pass
        book.close()

    print(f"data: {args.rows:,} rows × 10 columns, .xlsx of {len(data) / 1e6:.1f} MB; median of {args.repeat} runs")
    results = {name: timed(fn, args.repeat) for name, fn in
               (("guard", guard), ("openpyxl read_only", baseline), ("calamine", calamine))}
    for name, (cpu, wall) in results.items():
        print(f"  {name:<20} cpu {cpu:7.3f} s   wall {wall:7.3f} s")
    g = results["guard"][0]
    print(f"  guard ÷ openpyxl read_only (cpu): {g / results['openpyxl read_only'][0]:.3f}")
    print(f"  guard ÷ calamine (cpu):           {g / results['calamine'][0]:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
