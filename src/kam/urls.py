from django.conf import settings
from django.contrib import admin
from django.urls import include, path, register_converter

from kam.api.main import api
from kam.core.csp import csp_report
from kam.core.web import IdConverter

register_converter(IdConverter, "id")

urlpatterns = [
    path("", include("kam.home.urls")),
    path("", include("kam.core.urls")),
    path("accounts/", include("kam.accounts.urls")),
    path("imports/", include("kam.imports.urls")),
    path("tiering/", include("kam.tiering.urls")),
    path("activities/", include("kam.activities.urls")),
    path("sales/", include("kam.sales.urls")),
    path("insight/", include("kam.insight.urls")),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("csp-report/", csp_report, name="csp_report"),
]

if settings.DEBUG_TOOLBAR:  # development only (kam.settings)
    from debug_toolbar.toolbar import debug_toolbar_urls

    urlpatterns += debug_toolbar_urls()

# A database that cannot be written is a 503 that says so, also when it surfaces as a bad
# request (a session that could not be saved); anything else our own 500 (pages and API
# alike, rendered without the database).
handler400 = "kam.core.failures.bad_request"
handler403 = "kam.core.web.refused"
handler404 = "kam.core.web.not_found"
handler500 = "kam.core.failures.server_error"
