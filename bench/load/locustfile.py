"""A key-account team's working day against a KAM served on 127.0.0.1, for locust.

Each simulated person logs in once through the login form (so django-axes, which counts only
failed logins, never locks anyone out), fetches the ids and names of accounts they can see
through the API, then works through a deck of everyday requests whose mix depends on their role
(plan.DAYS): specialists mostly open account cards, search and log visits; the branch manager
watches the opportunity board and the list; the director reads the home page, the board and
the API. A deck rather than independent draws keeps the mix exact in a short run; each pass
deals one of every kind first, so even a few seconds make every kind of request.

A page is fetched as a browser fetches it: the account card and the home page load some of
their parts with htmx once shown (`hx-trigger="load"`), so those parts are requested too, side
by side, and reported as "card parts" and "home parts". A search is what typing into the
list's search box sends: the list's results part (`HX-Request`), with a term taken from an
account name the person can see — a fragment of the Chinese name or the pinyin initials of
part of it. Logging a visit posts the card's activity form with its CSRF token, as the card
does, and succeeds only when the card answers "logged".

Run by bench/load/run.py (`make load`), which starts the server; it passes --kam-report, the
file where the request times and failures are written when the run ends. Only 127.0.0.1 is
accepted as the host.
"""

from __future__ import annotations

import html
import json
import random
import re
import time
import unicodedata
from collections import Counter, defaultdict
from itertools import cycle
from urllib.parse import quote, urlparse

import gevent
from locust import between, constant, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser
from plan import ALLOWED_HOST, DAYS, USERNAMES, VISIT_SUMMARIES, WEIGHTS

from kam.core.text import pinyin_initials

PASSWORD_DEFAULT = "kam-demo-2026"

LEGAL_FORM = re.compile("股份有限公司|有限责任公司|有限公司|集团公司|集团|分公司")

HTMX = {"HX-Request": "true"}
# The API's largest page (PAGE_SIZE_MAX): larger asks are cut to it, and the answer says its size.
IDS_PAGE_SIZE = 200
LOAD_PARTS = re.compile(
    r"<[^>]*?\bhx-get=\"(?P<a>[^\"]+)\"[^>]*?\bhx-trigger=\"load[^\"]*\"[^>]*>"
    r"|<[^>]*?\bhx-trigger=\"load[^\"]*\"[^>]*?\bhx-get=\"(?P<b>[^\"]+)\"[^>]*>"
)
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ACCOUNT_LINK = re.compile(r'href="/accounts/\d+/"')


@events.init_command_line_parser.add_listener
def _options(parser):
    parser.add_argument("--kam-report", default="", help="write request times and failures to this JSON file")
    parser.add_argument("--kam-think", default="1-3",
                        help="seconds a person waits between two actions: MIN-MAX, or one number (0: none)")
    parser.add_argument("--kam-password", default=PASSWORD_DEFAULT, help="the demo users' password")
    parser.add_argument("--kam-only", default="",
                        help="comma-separated kinds of request: each person makes only these (default: their day)")
    parser.add_argument("--kam-passes", type=int, default=0,
                        help="end the run once every person has been through their day this many times "
                             "(0: run until --run-time)")


@events.init.add_listener
def _only_here(environment, **kwargs):
    if urlparse(environment.host or "").hostname != ALLOWED_HOST:
        raise SystemExit(f"the load test runs only against http://{ALLOWED_HOST}:PORT, not {environment.host!r}")


# --- the record of every request, written for the report ----------------------------------
RECORD: dict = {"times": defaultdict(list), "failures": defaultdict(Counter), "started": None, "stopped": None}


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **kwargs):
    if exception is not None:
        RECORD["failures"][name][str(exception)[:300]] += 1
    else:
        RECORD["times"][name].append(response_time)


@events.test_start.add_listener
def _started(environment, **kwargs):
    RECORD["started"] = time.time()


@events.test_stop.add_listener
def _stopped(environment, **kwargs):
    RECORD["stopped"] = time.time()


@events.quitting.add_listener
def _write(environment, **kwargs):
    path = environment.parsed_options.kam_report if environment.parsed_options else ""
    if not path:
        return
    with open(path, "w", encoding="utf-8") as out:
        json.dump({"started": RECORD["started"], "stopped": RECORD["stopped"] or time.time(),
                   "times": RECORD["times"], "failures": {k: dict(v) for k, v in RECORD["failures"].items()}},
                  out, ensure_ascii=False)


def think_time(text: str):
    """`between(MIN, MAX)` for "MIN-MAX", `constant(N)` for "N"."""
    low, _, high = str(text).partition("-")
    return constant(float(low)) if not high else between(float(low), float(high))


# --- what a person does -----------------------------------------------------------------------
def search_term(name: str, rng: random.Random) -> str:
    """A term someone would type to find `name`: a fragment of it (not of its legal form), or
    the pinyin initials of one, taken from the name as the search key spells it (NFKC, lower)."""
    plain = unicodedata.normalize("NFKC", name).lower()
    core = max(LEGAL_FORM.split(plain), key=len) or plain
    size = min(len(core), rng.randint(2, 4))
    start = rng.randint(0, len(core) - size)
    if rng.random() < 0.5:
        return core[start:start + size]
    initials = pinyin_initials(plain)
    size = min(len(initials), rng.randint(3, 5))
    start = rng.randint(0, len(initials) - size)
    return initials[start:start + size]


def deal(day: dict[str, int], rng: random.Random) -> list[str]:
    """One pass of a role's day: one of every kind first, then the rest, each part shuffled —
    the mix stays exact, and even a short run makes every kind of request."""
    first = list(day)
    rest = [kind for kind, count in day.items() for _ in range(count - 1)]
    rng.shuffle(first)
    rng.shuffle(rest)
    return first + rest


class Person(FastHttpUser):
    abstract = True
    usernames: tuple[str, ...] = ()
    day: dict[str, int] = {}
    _turns = None
    finished = 0  # people done with their passes (or who could not start), over every role

    def wait_time(self):
        return self.think(self)

    def on_start(self):
        """Log in as the role's next user; in a small demo some users see no account, so the
        role's other users are tried before giving up (which counts as a failed login)."""
        cls = type(self)
        if cls._turns is None:
            cls._turns = cycle(range(len(cls.usernames)))
        first = next(cls._turns)
        self.think = think_time(self.environment.parsed_options.kam_think)
        self.rng = random.Random()
        self.deck: list[str] = []
        self.dealt = 0
        self.api_pages = 1
        for username in cls.usernames[first:] + cls.usernames[:first]:
            self.username = username
            self.client.cookiejar.clear()
            self.login()
            if accounts := self.visible_accounts():
                self.accounts = accounts
                return
        self.environment.events.request.fire(
            request_type="POST", name="login", response_time=0, response_length=0, response=None, context={},
            exception=AssertionError(f"none of {', '.join(cls.usernames)} sees any account"))
        self.finish()

    def finish(self):
        """Stop this person; with --kam-passes, the last one to finish ends the run."""
        Person.finished += 1
        if self.environment.parsed_options.kam_passes and Person.finished >= self.environment.runner.target_user_count:
            gevent.spawn_later(0, self.environment.runner.quit)
        raise StopUser()

    # --- set-up: once a session -----------------------------------------------------------
    def login(self):
        page = self.client.get("/login/", name="login")
        token = CSRF_FIELD.search(page.text or "")
        password = self.environment.parsed_options.kam_password
        with self.client.post("/login/", name="login", allow_redirects=False, catch_response=True,
                              data={"username": self.username, "password": password, "next": "/",
                                    "csrfmiddlewaretoken": token.group(1) if token else ""},
                              headers={"Referer": f"{self.host}/login/"}) as response:
            location = response.headers.get("Location", "") if response.headers else ""
            refused = response.status_code != 302 or "/login/" in location
            if refused:
                response.failure(f"login as {self.username} refused ({response.status_code})")
        if refused:
            raise StopUser()

    def visible_accounts(self) -> list[dict]:
        """Ids and names of accounts this person sees, from the API: the first page of the
        largest size the API gives and, when there are more, one page drawn at random."""
        found: list[dict] = []
        page, pages = 1, 1
        for _ in range(2):
            with self.client.get(f"/api/accounts?page={page}&page_size={IDS_PAGE_SIZE}", name="ids",
                                 catch_response=True) as response:
                data = response.json() if response.status_code == 200 else None
                if not data or "items" not in data:
                    response.failure(f"the API's account list answered {response.status_code}")
                    return found
                found += [{"id": a["id"], "name": a["name"]} for a in data["items"]]
                pages = -(-data["count"] // data["page_size"])
            if pages < 2:
                break
            page = self.rng.randint(2, pages)
        return found

    # --- the day ------------------------------------------------------------------------------
    @task
    def next_thing(self):
        if not self.deck:
            passes = self.environment.parsed_options.kam_passes
            if passes and self.dealt >= passes:
                self.finish()
            only = [kind for kind in (self.environment.parsed_options.kam_only or "").split(",") if kind]
            self.deck = deal({kind: 1 for kind in only} if only else self.day, self.rng)
            self.dealt += 1
        ACTIONS[self.deck.pop(0)](self)

    def account(self) -> dict:
        return self.rng.choice(self.accounts)

    def page(self, path: str, name: str, parts: str, must: str) -> dict[str, str]:
        """A page and, side by side as a browser does, the parts it loads once shown; returns
        the parts' HTML by their URL."""
        with self.client.get(path, name=name, catch_response=True) as response:
            text = response.text or ""
            if response.status_code == 200 and must not in text:
                response.failure(f"{path}: the page lacks {must}")
        if response.status_code != 200:
            return {}
        urls = [html.unescape(m.group("a") or m.group("b")) for m in LOAD_PARTS.finditer(text)]
        jobs = [gevent.spawn(self.client.get, url, name=parts, headers=HTMX) for url in urls]
        gevent.joinall(jobs)
        return {url: (job.value.text or "") for url, job in zip(urls, jobs, strict=True)
                if job.value is not None and job.value.status_code == 200}

    def open_home(self):
        self.page("/", "home", "home parts", must='data-testid="my-tasks-slot"')

    def open_list(self):
        with self.client.get(f"/accounts/?page={self.rng.randint(1, 3)}", name="list",
                             catch_response=True) as response:
            if response.status_code == 200 and not ACCOUNT_LINK.search(response.text or ""):
                response.failure("the account list shows no account")

    def search(self):
        term = search_term(self.account()["name"], self.rng)
        with self.client.get(f"/accounts/?q={quote(term)}", name="search", headers=HTMX,
                             catch_response=True) as response:
            if response.status_code == 200 and not ACCOUNT_LINK.search(response.text or ""):
                response.failure(f"searching {term!r} found nothing, though it comes from a visible account")

    def open_card(self) -> tuple[int, dict[str, str]]:
        pk = self.account()["id"]
        return pk, self.page(f"/accounts/{pk}/", "card", "card parts", must='data-testid="activities-slot"')

    def log_visit(self):
        """On a card, post the activity form its activities part shows, as the card does: htmx,
        with the form's CSRF token and time; the card must answer that the visit was logged."""
        pk, parts = self.open_card()
        text = parts.get(f"/activities/accounts/{pk}/", "")
        token = CSRF_FIELD.search(text)
        when = re.search(r'name="occurred_at" value="([^"]+)"', text)
        if not text:
            return  # the card's failure is counted already
        if not token or not when:
            self.environment.events.request.fire(
                request_type="POST", name="log visit", response_time=0, response_length=0, response=None,
                context={}, exception=AssertionError("the card's activity form has no CSRF token or time"))
            return
        data = {"csrfmiddlewaretoken": token.group(1), "kind": "visit", "occurred_at": when.group(1),
                "summary": self.rng.choice(VISIT_SUMMARIES)}
        if contacts := re.findall(r'name="contacts" value="(\d+)"', text):
            data["contacts"] = self.rng.choice(contacts)
        with self.client.post(f"/activities/accounts/{pk}/", name="log visit", data=data, catch_response=True,
                              headers={**HTMX, "Referer": f"{self.host}/accounts/{pk}/"}) as response:
            body = response.text or ""
            if response.status_code == 200 and 'data-testid="logged"' not in body:
                error = re.search(r'data-field-error="\w+"|data-testid="form-error"', body)
                response.failure(f"the visit was not logged ({error.group(0) if error else 'no message'})")

    def open_board(self):
        with self.client.get("/sales/opportunities/board/", name="board", catch_response=True) as response:
            if response.status_code == 200 and 'data-testid="board"' not in (response.text or ""):
                response.failure("the board page shows no board")

    def api_list(self):
        """A page of /api/accounts as an integration pages through it (the API's page size)."""
        page = self.rng.randint(1, self.api_pages)
        with self.client.get(f"/api/accounts?page={page}", name="api list", catch_response=True) as response:
            if response.status_code != 200:
                return
            try:
                data = response.json()
                items, count, size = data["items"], data["count"], data["page_size"]
            except (ValueError, KeyError, TypeError):
                response.failure("the API answered no account list")
                return
            if count and not items:
                response.failure(f"page {page} of the API's account list is empty")
            self.api_pages = max(1, -(-count // size))


ACTIONS = {
    "home": Person.open_home, "list": Person.open_list, "search": Person.search, "card": Person.open_card,
    "log visit": Person.log_visit, "board": Person.open_board, "api list": Person.api_list,
}


class Specialist(Person):
    weight = WEIGHTS["specialist"]
    usernames = USERNAMES["specialist"]
    day = DAYS["specialist"]


class Manager(Person):
    weight = WEIGHTS["manager"]
    usernames = USERNAMES["manager"]
    day = DAYS["manager"]


class Director(Person):
    weight = WEIGHTS["director"]
    usernames = USERNAMES["director"]
    day = DAYS["director"]
