"""Check 11 of the quality spec: web requests and the task worker writing at once — 0 "database
is locked" errors, 0 server errors.

SQLite runs in WAL mode, opens write transactions with BEGIN IMMEDIATE (so a writer queues on
the busy timeout rather than failing half-way) and waits up to a busy timeout. Against a real
`kam serve`, a specialist uploads a long, legitimate file and imports it through the pages —
the upload parsed outside any transaction, the check and the batched import run by the
background worker — while API clients keep changing accounts. On PostgreSQL the same run
checks the 0 server errors (it has no database-wide write lock to wait on).
"""

from __future__ import annotations

import re
import threading
import time

import pytest
import requests

from serving import KamServer, wait_for

ROWS, BATCH = 20_000, 1_000
WRITERS = 3
PASSWORD = "sqlite-writers-2026!"
SEED = f"""
from factories import AccountFactory, Role, unit
from kam.core.services import api_token_issue, user_create
hq = unit("HQ", "总部", "hq")
office = unit("GZ-TH", "天河经营部", "office", unit("GZ", "广州分公司", "branch", hq))
spec = user_create(username="spec_w", role=Role.SPECIALIST, unit=office, password={PASSWORD!r})
for n in range({WRITERS}):
    print("ACCOUNT", AccountFactory(owner=spec).pk)
print("TOKEN", api_token_issue(user=spec, name="writer"))
"""


@pytest.fixture(scope="module")
def server():
    served = KamServer(workers=2, env={"KAM_IMPORT_BATCH_ROWS": str(BATCH), "KAM_WORKER_PROCESSES": "1"})
    try:
        served.migrate()
        out = served.python(SEED)
        served.accounts = [int(pk) for pk in re.findall(r"ACCOUNT (\d+)", out)]
        served.token = re.search(r"TOKEN (\S+)", out).group(1)
        served.start()
        yield served
    finally:
        served.close()


def test_sqlite_runs_in_wal_with_immediate_transactions_and_a_busy_timeout(server):
    if server._pg_database:
        pytest.skip("SQLite's journal and transaction modes; PostgreSQL has neither")
    assert server.query("PRAGMA journal_mode") == [("wal",)]
    options = server.python("from django.db import connection; o = connection.settings_dict['OPTIONS'];"
                            "print(o['transaction_mode'], o['timeout'])").split()
    assert options[0] == "IMMEDIATE" and float(options[1]) >= 5


class Writer(threading.Thread):
    def __init__(self, server: KamServer, account: int):
        super().__init__(daemon=True)
        self.url = f"{server.url}/api/accounts/{account}"
        self.headers = {"Authorization": f"Bearer {server.token}"}
        self.statuses: list[int] = []
        self.bodies: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stopping.is_set():
            n += 1
            response = requests.patch(self.url, json={"annual_revenue": f"{n}"}, headers=self.headers, timeout=60)
            self.statuses.append(response.status_code)
            if response.status_code != 200:
                self.bodies.append(response.text[:300])


def _accounts_csv() -> bytes:
    lines = ["客户编号,客户名称,渠道"] + [f"SQW{n:06d},并发写入客户{n}号,商业客户" for n in range(ROWS)]
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def test_api_writes_and_a_long_import_at_once_give_no_locked_database_and_no_server_error(server):
    # given API clients changing accounts all along
    writers = [Writer(server, pk) for pk in server.accounts]
    for writer in writers:
        writer.start()
    try:
        # when a specialist uploads a long file and imports it through the pages meanwhile
        web = server.session("spec_w", PASSWORD)
        response = web.post(f"{server.url}/imports/", data={"kind": "accounts"},
                            files={"file": ("长清单.csv", _accounts_csv(), "text/csv")}, allow_redirects=False, timeout=120)
        assert response.status_code == 302, response.text[:2000]
        detail = server.url + response.headers["Location"]
        wait_for(lambda: 'data-state="checked"' in web.get(detail, timeout=60).text, timeout=180, every=0.5,
                 what="the preview")
        assert web.post(f"{detail}confirm/", data={"mode": "valid"}, allow_redirects=False, timeout=60).status_code == 302
        wait_for(lambda: 'data-testid="result"' in web.get(detail, timeout=60).text, timeout=300, every=0.5,
                 what="the finished import")
        time.sleep(0.5)
    finally:
        for writer in writers:
            writer.stopping.set()
        for writer in writers:
            writer.join(timeout=90)

    # then the import wrote every row, and every API write succeeded: 0 locked, 0 server errors
    assert server.query("SELECT state, created FROM imports_importjob") == [("done", ROWS)]
    statuses = [s for w in writers for s in w.statuses]
    assert len(statuses) > 20, statuses
    assert all(s == 200 for s in statuses), [b for w in writers for b in w.bodies][:5]
    log = server.log()
    assert "database is locked" not in log and " 500 " not in log and " 503 " not in log
