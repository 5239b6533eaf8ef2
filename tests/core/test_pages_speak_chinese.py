"""Every page each role can reach, in Chinese, says things in words: no rule code
(`spend_drop`), scheme slug (`pareto-abc`), Django's empty choice `---------` or unformatted
amount over 9,999 (12345.60, 12345 元) reaches the text a user reads — the page's text, the
attributes a browser shows (title, placeholder, aria-label) and the labels of its charts.

The pages are found as a user finds them: from the home page, following the links of each
page (the account card, the lists, the details), each role with the world of both branches."""

from __future__ import annotations

import json
import re
from collections import deque
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.test import Client

from factories import Role, user
from kam.insight.models import ChurnDefinition, ChurnRule, WarningRule
from kam.tiering import services as tiering
from kam.tiering.models import Scheme
from tests.security.world import build

pytestmark = pytest.mark.django_db

SKIP = re.compile(r"^/(static|media|admin|api|logout|i18n|accounts/logout)|/export|/sheet|/template|\.xlsx|\.csv|/events/stream")
PAGES_PER_ROLE = 160
QUERIES_PER_PATH = 2
AMOUNT = re.compile(r"(?<![\d.,])\d{5,}\.\d{1,2}(?!\d)|(?<![\d.,])\d{5,}\s*元")
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}


class _Text(HTMLParser):
    """The text a user reads: text nodes and shown attributes, scripts left out except the
    JSON a chart draws its labels from."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.charts: list[str] = []
        self.links: list[str] = []
        self._script: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style"):
            self._script = attrs.get("type", "") if tag == "script" else "style"
        for name, value in attrs.items():
            if name in SHOWN_ATTRIBUTES and value:
                self.parts.append(value)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._script = None

    def handle_data(self, data):
        if self._script is None:
            self.parts.append(data)
        elif self._script == "application/json":
            self.charts.append(data)


def _strings(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for key, value in node.items() if key in ("name", "label", "title", "x", "tiers", "series",
                                                          "categories", "labels", "nodes", "links")
                or isinstance(value, (dict, list)) for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return []


def _codes() -> set[str]:
    codes = {c for c in WarningRule.objects.values_list("code", flat=True)}
    codes |= {c for c in ChurnDefinition.objects.values_list("code", flat=True)}
    codes |= {v for v in ChurnRule.values}
    codes |= set(Scheme.objects.values_list("code", flat=True))
    # plain English words are left out: a Chinese page may quote a product name in English
    return {c for c in codes if re.search(r"[_-]", c) or c in {"bcg"}}


def _crawl(client: Client, start: list[str]) -> dict[str, _Text]:
    seen: dict[str, _Text] = {}
    per_path: dict[str, int] = {}
    queue = deque(start)
    while queue and len(seen) < PAGES_PER_ROLE:
        url = queue.popleft()
        parts = urlsplit(url)
        if parts.netloc or not parts.path.startswith("/") or SKIP.search(parts.path) or url in seen:
            continue
        key = re.sub(r"/\d+/", "/N/", parts.path)
        if per_path.get(key, 0) >= QUERIES_PER_PATH:
            continue
        per_path[key] = per_path.get(key, 0) + 1
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        text = _Text()
        text.feed(response.content.decode())
        seen[url] = text
        queue.extend(link.split("#", 1)[0] for link in text.links if link.split("#", 1)[0])
    return seen


def _faults(text: _Text, codes: set[str]) -> list[str]:
    words = " ".join(text.parts)
    found = []
    for code in codes:
        if re.search(rf"(?<![\w/-]){re.escape(code)}(?![\w/-])", words):
            found.append(f"code {code!r}")
    if "---------" in words:
        found.append("'---------'")
    found += [f"amount {m.group(0)!r}" for m in AMOUNT.finditer(words)]
    for chart in text.charts:
        try:
            labels = " ".join(_strings(json.loads(chart)))
        except ValueError:
            continue
        found += [f"chart code {code!r}" for code in codes
                  if re.search(rf"(?<![\w/-]){re.escape(code)}(?![\w/-])", labels)]
    return found


def test_every_reachable_page_speaks_chinese_without_codes_or_raw_amounts(org):
    world = build(org)
    for code in ("pareto-abc", "bcg", "monthly-spend"):
        tiering.snapshot_create(actor=org.admin, scheme=Scheme.objects.get(code=code), as_of=date.today())
    gm = user("gm_pages", Role.GENERAL_MANAGER, org.hq)
    people = (org.specialist_a, org.manager_a, org.director, org.analyst_hq, org.admin, gm)
    codes = _codes()
    faults: dict[str, list[str]] = {}
    visited = 0
    for person in people:
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        client.force_login(person)
        start = ["/", f"/accounts/{world.a.objects['account'].pk}/"]
        pages = _crawl(client, start)
        visited += len(pages)
        for url, text in pages.items():
            if found := _faults(text, codes):
                faults.setdefault(f"{person.role} {url}", []).extend(found)
    assert visited > 200, visited
    assert not faults, "\n".join(f"{page}: {', '.join(sorted(set(found)))}" for page, found in sorted(faults.items()))
