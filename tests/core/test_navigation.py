"""Every link of the navigation and of the account card opens for the role that sees it: no
menu leads to a page that answers 403 or 404."""

from __future__ import annotations

import re

import pytest

from factories import AccountFactory, ContactFactory, Role, user

pytestmark = pytest.mark.django_db

LINK = re.compile(r'href="(/[^"#?]*)')


def _links(html: str, start: str, end: str) -> list[str]:
    part = html.split(start, 1)[1].split(end, 1)[0]
    return list(dict.fromkeys(LINK.findall(part)))


def test_every_menu_and_account_card_link_opens_for_each_role(client, org):
    account = AccountFactory(owner=org.specialist_a, name="广州导航测试有限公司")
    ContactFactory(actor=org.specialist_a, account=account)
    general_manager = user("gm_nav", Role.GENERAL_MANAGER, org.hq)
    broken = []
    for person in (org.specialist_a, org.manager_a, org.director, org.analyst_hq, org.admin, general_manager):
        client.force_login(person)
        home = client.get("/").content.decode()
        links = _links(home, "<header", "</header>")
        assert len(links) > 10, (person.role, links)
        card = client.get(f"/accounts/{account.pk}/")
        assert card.status_code == 200
        links += _links(card.content.decode(), 'class="page-wrapper"', "</body>")
        for link in dict.fromkeys(links):
            status = client.get(link).status_code
            if status not in (200, 302):
                broken.append(f"{person.role}: {link} → {status}")
    assert not broken, "links that do not open for the role shown them:\n" + "\n".join(broken)


def test_the_menu_offers_the_audit_log_and_the_administration_only_where_their_policies_allow(client, org):
    for person, audit, admin in ((org.specialist_a, False, False), (org.director, False, False), (org.admin, True, None)):
        client.force_login(person)
        header = client.get("/").content.decode().split("<header", 1)[1].split("</header>", 1)[0]
        assert ('href="/audit/' in header) is audit, person.role
        assert ('href="/admin/' in header) is (person.is_staff if admin is None else admin), person.role
