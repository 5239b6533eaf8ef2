"""The tracking sheet (《大客户开发跟踪表》) of a deal review as an Excel form.

One sheet is the paper form the meeting works from: a title, a header line (unit, account
manager, date), then one bordered row per part of the sheet with its label on the left and
the text across the rest of the width, wrapped, on A4 portrait fitted to the page width.
A meeting exports a summary of its items and then one form per item.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from kam.activities.models import Task
from kam.core.exports import write_cell
from kam.sales.models import DealReview, ReviewMeeting

# Column widths of the form (A–F), in characters: label, value, label, value, label, value.
WIDTHS = (14, 24, 14, 18, 10, 16)
LAST_COLUMN = get_column_letter(len(WIDTHS))
TITLE_ROW, HEADER_ROW, ACCOUNT_ROW, FIRST_PART_ROW = 1, 2, 3, 4
# The parts of the form in their printed order; the row of each is FIRST_PART_ROW + its index.
PARTS = ("brief", "core_needs", "project_amount", "main_problems", "proposed_strategy",
         "manager", "director", "decision", "follow_up")
LINE_HEIGHT = 15  # points per wrapped line at 11 pt

_thin = Side(style="thin")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
LABEL_FILL = PatternFill("solid", fgColor="F2F2F2")
WRAP = Alignment(wrap_text=True, vertical="top")
LABEL_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")


def part_row(part: str) -> int:
    return FIRST_PART_ROW + PARTS.index(part)


def _part_labels() -> dict[str, str]:
    return {
        "brief": _("Account brief"),
        "core_needs": _("Core needs"),
        "project_amount": _("Project and amount"),
        "main_problems": _("Main problems"),
        "proposed_strategy": _("Proposed strategy"),
        "manager": _("Manager's opinion"),
        "director": _("Director's opinion"),
        "decision": _("Decision"),
        "follow_up": _("Follow-up"),
    }


def _local(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d") if value else ""


def _yuan(amount) -> str:
    return _("%(amount)s yuan") % {"amount": f"{amount:,.2f}"}


def _opinion(text: str, who, when) -> str:
    if not text:
        return ""
    return f"{text}\n—— {who} {_local(when)}"


def _follow_up_text(tasks: Iterable[Task]) -> str:
    lines = []
    for task in tasks:
        lines.append(_("%(title)s (due %(due)s, %(owner)s): %(status)s") % {
            "title": task.title, "due": task.due_on.isoformat(), "owner": task.owner,
            "status": task.get_status_display()})
    return "\n".join(lines)


def _lines(text: str, width: float) -> int:
    """Printed lines of `text` wrapped at `width` characters (CJK characters count twice)."""
    total = 0
    for line in str(text).split("\n"):
        size = sum(2 if ord(ch) > 0x2E7F else 1 for ch in line)
        total += max(1, math.ceil(size / width))
    return total


def _frame(sheet: Worksheet, first_row: int, last_row: int) -> None:
    for row in sheet.iter_rows(min_row=first_row, max_row=last_row, max_col=len(WIDTHS)):
        for cell in row:
            cell.border = BORDER


def _label(cell, text: str) -> None:
    cell.value = text
    cell.font = Font(bold=True)
    cell.fill = LABEL_FILL
    cell.alignment = LABEL_ALIGN


def _print_setup(sheet: Worksheet, last_row: int) -> None:
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_PORTRAIT
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.print_area = f"A1:{LAST_COLUMN}{last_row}"


def review_sheet_fill(sheet: Worksheet, review: DealReview, follow_ups: Iterable[Task]) -> None:
    """Write the tracking sheet of `review` on an empty worksheet."""
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    opportunity = review.opportunity
    account = opportunity.account

    sheet.merge_cells(f"A{TITLE_ROW}:{LAST_COLUMN}{TITLE_ROW}")
    title = sheet.cell(TITLE_ROW, 1, _("Key-account development tracking sheet"))
    title.font = Font(bold=True, size=16)
    title.alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[TITLE_ROW].height = 32

    header = ((_("Unit"), account.unit.name), (_("Account manager"), str(opportunity.owner)),
              (_("Date"), _local(review.submitted_at)))
    for index, (label, value) in enumerate(header):
        _label(sheet.cell(HEADER_ROW, 2 * index + 1), label)
        cell = sheet.cell(HEADER_ROW, 2 * index + 2)
        write_cell(cell, value)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    sheet.row_dimensions[HEADER_ROW].height = 2 * LINE_HEIGHT

    values = {
        "brief": review.brief,
        "core_needs": review.core_needs,
        "project_amount": f"{review.project}\n{_yuan(review.amount)}",
        "main_problems": review.main_problems,
        "proposed_strategy": review.proposed_strategy,
        "manager": _opinion(review.manager_recommendation, review.manager, review.manager_at),
        "director": _opinion(review.director_recommendation, review.director, review.director_at),
        "decision": _opinion(review.decision, review.decided_by, review.decided_at),
        "follow_up": _follow_up_text(follow_ups),
    }
    rows = [(ACCOUNT_ROW, _("Account"), account.name)]
    rows += [(part_row(part), label, values[part]) for part, label in _part_labels().items()]
    value_width = sum(WIDTHS[1:]) * 0.95
    for row, label, value in rows:
        _label(sheet.cell(row, 1), label)
        sheet.merge_cells(f"B{row}:{LAST_COLUMN}{row}")
        cell = sheet.cell(row, 2)
        write_cell(cell, value)
        cell.alignment = WRAP
        # Blank opinions keep room to write by hand at the meeting, as on the paper form.
        least = 5 if row >= part_row("manager") else 3 if row >= FIRST_PART_ROW else 2
        sheet.row_dimensions[row].height = LINE_HEIGHT * max(least, _lines(value, value_width) + 1)
    last_row = part_row(PARTS[-1])
    _frame(sheet, HEADER_ROW, last_row)
    _print_setup(sheet, last_row)


_SHEET_NAME_BAD = re.compile(r"[\\/?*\[\]:]")


def _sheet_name(text: str, taken: set[str]) -> str:
    base = _SHEET_NAME_BAD.sub(" ", text).strip("' ")[:28] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        name = f"{base[:25]}({n})"
        n += 1
    taken.add(name.lower())
    return name


def review_workbook(review: DealReview, follow_ups: Iterable[Task]) -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_name(review.opportunity.account.name, set())
    review_sheet_fill(sheet, review, follow_ups)
    return workbook


SUMMARY_COLUMNS = (6, 28, 26, 16, 16, 30, 30, 30, 12)


def meeting_workbook(meeting: ReviewMeeting, items: list[DealReview],
                     follow_ups: dict[int, list[Task]]) -> Workbook:
    """A summary sheet of the meeting's items, then one tracking sheet per item."""
    workbook = Workbook()
    summary = workbook.active
    taken: set[str] = set()
    summary.title = _sheet_name(_("Summary"), taken)
    headers = (_("No."), _("Account"), _("Project"), _("Amount (yuan)"), _("Status"), _("Manager's opinion"),
               _("Director's opinion"), _("Decision"), _("Senior review"))
    last = get_column_letter(len(headers))
    summary.merge_cells(f"A1:{last}1")
    title = summary.cell(1, 1)
    write_cell(title, f"{meeting.title} · {meeting.held_on:%Y-%m-%d} · {meeting.unit.name}")
    title.font = Font(bold=True, size=14)
    title.alignment = Alignment(horizontal="center", vertical="center")
    summary.row_dimensions[1].height = 28
    for index, (label, width) in enumerate(zip(headers, SUMMARY_COLUMNS, strict=True), start=1):
        summary.column_dimensions[get_column_letter(index)].width = width
        _label(summary.cell(2, index), label)
    for number, review in enumerate(items, start=1):
        row = 2 + number
        values = (number, review.opportunity.account.name, review.project, review.amount,
                  review.get_status_display(), review.manager_recommendation, review.director_recommendation,
                  review.decision, _local(review.escalated_at))
        for index, value in enumerate(values, start=1):
            cell = summary.cell(row, index)
            write_cell(cell, value)
            cell.alignment = WRAP
        summary.cell(row, 4).number_format = "#,##0.00"
    _frame(summary, 2, 2 + len(items))
    summary.page_setup.orientation = summary.ORIENTATION_LANDSCAPE
    summary.page_setup.paperSize = summary.PAPERSIZE_A4
    summary.page_setup.fitToWidth = 1
    summary.page_setup.fitToHeight = 0
    summary.sheet_properties.pageSetUpPr.fitToPage = True
    summary.print_title_rows = "2:2"
    for number, review in enumerate(items, start=1):
        sheet = workbook.create_sheet(_sheet_name(f"{number} {review.opportunity.account.name}", taken))
        review_sheet_fill(sheet, review, follow_ups.get(review.pk, []))
    return workbook
