"""QuickSelect draws the same select as Django's own widget: the same options, values,
selection, attributes and escaping (compared as parsed HTML), and grouped choices still work."""

from __future__ import annotations

import pytest
from django import forms
from django.test.html import parse_html

from kam.core.models import Industry
from kam.core.web import IdChoiceField, QuickSelect

HOSTILE = '<script>alert("x")</script> & 「引号」'


@pytest.mark.parametrize("value", ["", "b", HOSTILE, None])
def test_the_same_html_as_djangos_select(value):
    choices = [("", "—"), ("a", "甲"), ("b", HOSTILE), (HOSTILE, "乙 & 丙")]
    attrs = {"class": "form-select", "data-x": '"quoted"', "disabled": True, "hidden": False}
    ours = QuickSelect(attrs=attrs, choices=choices).render("pick", value)
    django = forms.Select(attrs=attrs, choices=choices).render("pick", value)
    assert parse_html(ours) == parse_html(django)
    assert "<script>" not in ours


@pytest.mark.django_db
def test_a_model_choice_renders_its_ids_and_marks_the_chosen_one():
    first, second = Industry.objects.order_by("pk")[:2]
    ours = IdChoiceField(queryset=Industry.objects.order_by("pk"), widget=QuickSelect,
                         required=False).widget.render("industry", second.pk)
    django = IdChoiceField(queryset=Industry.objects.order_by("pk"), required=False).widget.render("industry", second.pk)
    assert parse_html(ours) == parse_html(django)
    assert f'<option value="{second.pk}" selected>' in ours and f'value="{first.pk}"' in ours


def test_grouped_choices_go_through_djangos_templates():
    choices = [("华南", [("gz", "广州"), ("sz", "深圳")]), ("hq", "总部")]
    ours = QuickSelect(choices=choices).render("unit", "sz")
    assert parse_html(ours) == parse_html(forms.Select(choices=choices).render("unit", "sz"))
    assert "<optgroup" in ours
