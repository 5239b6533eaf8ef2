"""leads pages."""

urlpatterns: list = []
