"""opportunities pages."""

urlpatterns: list = []
