"""analytics pages."""

urlpatterns: list = []
