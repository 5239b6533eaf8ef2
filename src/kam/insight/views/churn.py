from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path


@login_required
def churn(request, pk=None):
    return HttpResponse("")


@login_required
def account_churn(request, pk=None):
    return HttpResponse("")


urlpatterns = [
    path("churn/", churn, name="churn"),
    path("accounts/<id:pk>/churn/", account_churn, name="account_churn"),
]
