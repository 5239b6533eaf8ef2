"""Refusals are answered in one place: not visible → the 404 page in the site's layout, not
allowed → the 403 page in the layout with the reason and a way back; an htmx request gets a
short alert; a refusal on a form lands on the form."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory

from factories import AccountFactory
from kam.core.errors import NotVisible, PermissionDenied, refused
from kam.core.web import DomainErrorMiddleware, form_errors


def test_an_account_of_another_branch_is_the_404_page_in_the_layout(client, org):
    theirs = AccountFactory(owner=org.specialist_b, name="深圳某公司")
    client.force_login(org.specialist_a)
    response = client.get(theirs.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = response.content.decode()
    assert response.status_code == 404
    assert 'data-testid="not-found"' in page
    assert "navbar" in page  # the site's layout, with its menu
    assert "深圳某公司" not in page
    assert "Not Found" not in page


def test_an_unknown_address_is_the_404_page_too(client, org):
    client.force_login(org.specialist_a)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert 'data-testid="not-found"' in response.content.decode()


def _answer(request, exc):
    middleware = DomainErrorMiddleware(lambda request: HttpResponse())
    return middleware.process_exception(request, exc)


def test_permission_denied_is_the_403_page_with_the_reason(rf: RequestFactory, org):
    request = rf.get("/somewhere/", HTTP_REFERER="http://testserver/accounts/")
    request.user = org.specialist_a
    response = _answer(request, PermissionDenied("只有总部可以开始分层计算。"))
    page = response.content.decode()
    assert response.status_code == 403
    assert "只有总部可以开始分层计算。" in page
    assert 'href="http://testserver/accounts/"' in page  # back where the user came from
    assert "navbar" in page


def test_djangos_permission_denied_and_an_outside_referer(rf: RequestFactory, org):
    request = rf.get("/somewhere/", HTTP_REFERER="https://evil.example/")
    request.user = org.specialist_a
    response = _answer(request, DjangoPermissionDenied())
    assert response.status_code == 403
    assert "evil.example" not in response.content.decode()


def test_an_htmx_request_gets_a_short_alert(rf: RequestFactory, org):
    request = rf.get("/somewhere/", HTTP_HX_REQUEST="true")
    request.user = org.specialist_a
    response = _answer(request, NotVisible("gone"))
    page = response.content.decode()
    assert response.status_code == 404
    assert page.startswith('<div class="alert alert-danger"') and "navbar" not in page


def test_other_domain_errors_are_left_to_the_view(rf: RequestFactory, org):
    request = rf.get("/somewhere/")
    request.user = org.specialist_a
    assert _answer(request, refused("name", "太长")) is None


class NameForm(forms.Form):
    name = forms.CharField()


def test_form_errors_puts_a_refusal_on_its_field_and_lets_not_visible_through():
    form = NameForm({"name": "x"})
    assert form.is_valid()
    with form_errors(form):
        raise refused("name", "名称已被使用")
    assert form.errors["name"] == ["名称已被使用"]
    try:
        with form_errors(form):
            raise NotVisible("gone")
    except NotVisible:
        pass
    else:
        raise AssertionError("NotVisible must reach the middleware")
