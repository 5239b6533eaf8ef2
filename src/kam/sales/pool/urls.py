from django.urls import path

from kam.sales.pool.views import (
    pool_assign,
    pool_claim,
    pool_events,
    pool_export,
    pool_list,
    pool_release,
)

urlpatterns = [
    path("pool/", pool_list, name="pool"),
    path("pool/export/", pool_export, name="pool_export"),
    path("pool/<id:pk>/claim/", pool_claim, name="pool_claim"),
    path("pool/<id:pk>/assign/", pool_assign, name="pool_assign"),
    path("pool/<id:pk>/release/", pool_release, name="pool_release"),
    path("pool/<id:pk>/events/", pool_events, name="pool_events"),
]
