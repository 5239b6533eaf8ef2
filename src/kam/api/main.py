"""The HTTP API (django-ninja). One router module per app lives beside this file."""

from ninja import NinjaAPI

api = NinjaAPI(title="KAM API", version="1", urls_namespace="api")
