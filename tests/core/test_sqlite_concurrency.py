"""Several processes writing to one SQLite file at once: no "database is locked".

WAL plus BEGIN IMMEDIATE and a busy timeout make writers queue instead of failing
half-way through a transaction. This runs real processes on a real file, not the
in-memory test database.
"""

import os
import subprocess
import sys
import textwrap

import pytest
from django.db import connection

from serving import migrated_copy

WRITER = textwrap.dedent("""
    import os, sys
    os.environ["DJANGO_SETTINGS_MODULE"] = "kam.settings"
    import django
    django.setup()
    from django.db import OperationalError
    from kam.accounts import services
    from kam.accounts.models import Account
    from kam.core.models import User
    actor = User.objects.get(username="writer")
    account = Account.objects.get(code="C-1")
    failures = 0
    for i in range(int(sys.argv[2])):
        try:
            services.contact_create(actor=actor, account=account, data={"name": f"w{sys.argv[1]}-{i}"})
            fresh = Account.objects.get(pk=account.pk)
            services.account_update(actor=actor, account=fresh, data={"notes": f"{sys.argv[1]}-{i}"})
        except OperationalError as exc:
            failures += 1
            print("FAILED", exc, file=sys.stderr)
    print(failures)
""")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite locking")
def test_concurrent_writers_lose_nothing(tmp_path):
    env = {**os.environ, "KAM_HOME": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    migrated_copy(f"sqlite:///{tmp_path / 'kam.sqlite3'}")
    setup = textwrap.dedent("""
        import os
        os.environ["DJANGO_SETTINGS_MODULE"] = "kam.settings"
        import django
        django.setup()
        from kam.accounts import services
        from kam.core.services import orgunit_create, user_create
        hq = orgunit_create(code="HQ", name="总部", kind="hq")
        user = user_create(username="writer", role="admin", unit=hq)
        services.account_create(actor=user, data={"name": "并发测试客户", "code": "C-1"})
    """)
    subprocess.run([sys.executable, "-c", setup], env=env, check=True)
    writers, per_writer = 4, 40
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(n), str(per_writer)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(writers)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * writers, [err[-500:] for _out, err in results]
    assert [out.strip() for out, _err in results] == ["0"] * writers
    count = subprocess.run(
        [sys.executable, "-c", "import os;os.environ['DJANGO_SETTINGS_MODULE']='kam.settings';import django;"
         "django.setup();from kam.accounts.models import Contact, Account;"
         "print(Contact.objects.count(), Account.objects.get(code='C-1').version)"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.split()
    assert count == [str(writers * per_writer), str(1 + writers * per_writer)]
