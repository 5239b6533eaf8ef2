"""Shared fixtures: an org tree with two branches and a user of every role."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("KAM_HOME", str(Path(__file__).resolve().parents[1] / "var" / "test"))

from factories import AccountFactory, ContactFactory, Role, unit, user  # noqa: E402

# Property tests check results, not speed: on a shared, loaded machine an example may take
# longer than hypothesis' default 200 ms without anything being wrong.
hypothesis_settings.register_profile("kam", deadline=None)
hypothesis_settings.load_profile("kam")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    # Asking for the parallel suffix keeps one test database per xdist worker.
    # Live-server threads must not hold connections open past a test, or the test
    # database cannot be dropped at the end of the run.
    from django.conf import settings

    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture(autouse=True)
def _fast_test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.AXES_ENABLED = False
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: a rolled-back database hands out the same ids again,
    so a figure cached under a user's id by one test would answer for another test's user."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@dataclass
class Org:
    hq: object
    branch_a: object
    office_a1: object
    office_a2: object
    branch_b: object
    office_b1: object
    admin: object
    director: object
    analyst_hq: object
    manager_a: object
    specialist_a: object
    specialist_a2: object
    manager_b: object
    specialist_b: object


# Rows the data migrations seed (industries, regions, schemes and their standards, playbooks, the
# sales and insight lists...) but no content type or permission: post_migrate remakes those.
_NOT_SEEDED = {"contenttypes", "auth", "sessions", "admin"}


@pytest.fixture(scope="session", autouse=True)
def _migrated_rows(django_db_setup, django_db_blocker) -> str:
    """The migrated test database's rows, read once before any test changes them."""
    from django.apps import apps
    from django.core import serializers
    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    if name != connection.creation._get_test_db_name() and not Path(name).name.startswith("test_"):
        return ""  # no test in this run uses the database: it was not set up, and is not read
    with django_db_blocker.unblock():
        app_models = [(config, [m for m in config.get_models() if m._meta.managed and not m._meta.proxy])
                      for config in apps.get_app_configs() if config.label not in _NOT_SEEDED]
        rows = [obj for model in serializers.sort_dependencies(app_models)
                for obj in model._default_manager.order_by("pk")]
        return serializers.serialize("json", rows)


def _reference_lists(rows: str) -> None:
    """A transactional test's flush empties what the data migrations seeded for the tests after
    it: put the rows back when they are missing."""
    from django.core import serializers

    from kam.core.models import Industry

    if rows and not Industry.objects.exists():
        for obj in serializers.deserialize("json", rows):
            obj.save()


@pytest.fixture
def reference_lists(_migrated_rows) -> None:
    """For a transactional test: the migrations' rows are there, whatever ran before."""
    _reference_lists(_migrated_rows)


@pytest.fixture
def org(db, _migrated_rows) -> Org:
    _reference_lists(_migrated_rows)
    hq = unit("HQ", "省公司总部", "hq")
    branch_a = unit("GZ", "广州分公司", "branch", hq)
    office_a1 = unit("GZ-TH", "天河经营部", "office", branch_a)
    office_a2 = unit("GZ-YX", "越秀经营部", "office", branch_a)
    branch_b = unit("SZ", "深圳分公司", "branch", hq)
    office_b1 = unit("SZ-NS", "南山经营部", "office", branch_b)
    return Org(
        hq=hq, branch_a=branch_a, office_a1=office_a1, office_a2=office_a2,
        branch_b=branch_b, office_b1=office_b1,
        admin=user("admin", Role.ADMIN, hq),
        director=user("director", Role.DIRECTOR, hq),
        analyst_hq=user("analyst", Role.ANALYST, hq),
        manager_a=user("manager_a", Role.MANAGER, branch_a),
        specialist_a=user("spec_a", Role.SPECIALIST, office_a1, display_name="张三"),
        specialist_a2=user("spec_a2", Role.SPECIALIST, office_a2, display_name="李四"),
        manager_b=user("manager_b", Role.MANAGER, branch_b),
        specialist_b=user("spec_b", Role.SPECIALIST, office_b1, display_name="王五"),
    )


@pytest.fixture
def account_factory():
    return AccountFactory


@pytest.fixture
def contact_factory():
    return ContactFactory


@pytest.fixture
def run_import(django_capture_on_commit_callbacks):
    from kam.imports import services
    from kam.imports.models import JobState

    """Upload → check → confirm → run, as the pages do, with background tasks run inline."""

    def run(actor, kind: str, filename: str, data: bytes, *, mode: str = "all", confirm: bool = True,
            include_duplicates: bool = False):
        job = services.import_job_create(actor=actor, kind=kind, filename=filename, data=data)
        job = services.import_job_check(job_id=job.pk)
        if not confirm:
            return job
        if mode == "all":
            assert not job.preview["counts"]["invalid"], job.preview["issues"]
        with django_capture_on_commit_callbacks(execute=True):
            services.import_job_confirm(actor=actor, job=job, mode=mode, include_duplicates=include_duplicates)
        job.refresh_from_db()
        assert job.state in (JobState.DONE, JobState.REJECTED, JobState.FAILED), job.state
        return job

    return run
