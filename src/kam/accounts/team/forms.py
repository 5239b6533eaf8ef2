"""The form that adds a colleague to an account's team."""

from __future__ import annotations

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kam.accounts.models import AccountTeamMember
from kam.accounts.team.selectors import colleagues
from kam.core.web import AutocompleteWidget, IdChoiceField, bind_autocomplete


class TeamMemberForm(forms.Form):
    user = IdChoiceField(queryset=None, label=_("Member"),
                                  widget=AutocompleteWidget(url=reverse_lazy("users_autocomplete")))
    team_role = forms.ChoiceField(choices=AccountTeamMember._meta.get_field("team_role").choices, label=_("Team role"),
                                  widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        bind_autocomplete(self, "user", colleagues(user=user))

