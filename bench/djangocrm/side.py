"""DjangoCRM's side of bench/bench_djangocrm.py: run with DjangoCRM's own virtualenv's Python
(its Django and packages, not KAM's), with DJANGO_SETTINGS_MODULE naming the settings the
benchmark wrote.

    side.py load NAMES_FILE   the companies named in the file (one a line), owned by a superuser
    side.py serve             read URLs on stdin, answer each with a JSON line: status, wall and
                              CPU milliseconds, rows shown

`serve` logs the superuser in once (a superuser without a department sees every company, as
KAM's HQ director sees every account) and sets the company list to PAGE_SIZE rows a page.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

import django

django.setup()

from crm.models import Company  # noqa: E402
from crm.site.crmadminsite import crm_site  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

USERNAME = "bench"
ROW = re.compile(r'<tr[^>]*>\s*<td class="action-checkbox">')


def superuser():
    User = get_user_model()
    user = User.objects.filter(username=USERNAME).first()
    return user or User.objects.create_superuser(USERNAME, "bench@example.com", "bench-2026")


def load(names_file: str) -> None:
    owner = superuser()
    with open(names_file, encoding="utf-8") as lines:
        names = [line.rstrip("\n") for line in lines if line.strip()]
    Company.objects.all().delete()
    batch = 2000
    for k in range(0, len(names), batch):
        Company.objects.bulk_create([Company(full_name=name, owner=owner, email=f"c{k + i}@example.com",
                                             city_name="广州", registration_number=f"91440101{k + i:010d}")
                                     for i, name in enumerate(names[k:k + batch])])
    print(json.dumps({"companies": Company.objects.count()}), flush=True)


def serve() -> None:
    page_size = int(os.environ.get("PAGE_SIZE", "25"))
    crm_site._registry[Company].list_per_page = page_size
    client = Client()
    client.force_login(superuser())
    print(json.dumps({"ready": True, "companies": Company.objects.count(), "page_size": page_size}), flush=True)
    for line in sys.stdin:
        url = line.strip()
        if not url:
            continue
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(url, follow=False)
        wall, cpu = (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
        text = response.content.decode("utf-8", "replace")
        print(json.dumps({"status": response.status_code, "ms": wall, "cpu_ms": cpu, "rows": len(ROW.findall(text)),
                          "bytes": len(response.content)}), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["load"]:
        load(sys.argv[2])
    elif sys.argv[1:2] == ["serve"]:
        serve()
    else:
        raise SystemExit(__doc__)
