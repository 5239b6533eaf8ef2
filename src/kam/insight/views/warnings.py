from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path


@login_required
def warnings(request, pk=None):
    return HttpResponse("")


@login_required
def account_health(request, pk=None):
    return HttpResponse("")


urlpatterns = [
    path("warnings/", warnings, name="warnings"),
    path("accounts/<id:pk>/health/", account_health, name="account_health"),
]
