from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path


@login_required
def models(request, pk=None):
    return HttpResponse("")


@login_required
def account_forecast(request, pk=None):
    return HttpResponse("")


urlpatterns = [
    path("models/", models, name="models"),
    path("accounts/<id:pk>/forecast/", account_forecast, name="account_forecast"),
]
