from django.contrib import admin
from django.urls import include, path

from kam.api.main import api

urlpatterns = [
    path("", include("kam.core.urls")),
    path("accounts/", include("kam.accounts.urls")),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
