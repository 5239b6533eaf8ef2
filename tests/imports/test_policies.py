"""The import services refuse what the import policies deny, with no page in between, and
write nothing: a kind the user may not import, and someone else's job."""

from __future__ import annotations

import pytest

from kam.accounts.models import Account, Contact
from kam.core.errors import NotVisible, PermissionDenied
from kam.imports import policies, services
from kam.imports.models import ImportJob, JobState
from spreadsheets import csv_bytes

ACCOUNTS = csv_bytes([["客户名称", "客户编码"], ["导入策略测试公司", "IP1"]])


@pytest.mark.parametrize("kind", ["accounts", "contacts"])
def test_an_analyst_may_not_import_accounts_or_contacts(org, kind):
    # given a sales-ops analyst, who reads every account and changes none
    assert not policies.may_start_import(org.analyst_hq, kind)
    # when they start an import of accounts or contacts, then the service refuses it
    with pytest.raises(PermissionDenied):
        services.import_job_create(actor=org.analyst_hq, kind=kind, filename="a.csv", data=ACCOUNTS)
    # and nothing is written
    assert not ImportJob.objects.exists()
    assert not Account.objects.filter(code="IP1").exists() and not Contact.objects.exists()


def test_an_analyst_may_import_leads(org):
    assert policies.may_start_import(org.analyst_hq, "leads")
    assert not policies.may_start_import(org.analyst_hq, "no-such-kind")


@pytest.mark.parametrize("who", ["specialist_b", "admin"])
def test_nobody_but_the_uploader_confirms_or_cancels_a_job(org, who):
    # given a job uploaded and checked by one specialist
    job = services.import_job_create(actor=org.specialist_a, kind="accounts", filename="a.csv", data=ACCOUNTS,
                                     keep_table=True)
    job = services.import_job_check(job_id=job.pk)
    assert job.state == JobState.CHECKED
    other = getattr(org, who)
    assert not policies.may_run_job(other, job)
    # when someone else (another branch, or the administrator who sees every job) acts on it
    for act in (lambda: services.import_job_confirm(actor=other, job=job, mode="valid"),
                lambda: services.import_job_cancel(actor=other, job=job),
                lambda: services.import_job_check_queue(actor=other, job=job)):
        # then the service finds no job of theirs
        with pytest.raises(NotVisible):
            act()
    # and the job stays as it was, nothing imported
    job.refresh_from_db()
    assert job.state == JobState.CHECKED and not Account.objects.filter(code="IP1").exists()
