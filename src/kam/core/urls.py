from django.contrib.auth import views as auth_views
from django.urls import path

from kam.core import audit_views, views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("logout/everywhere/", views.logout_everywhere, name="logout_everywhere"),
    path("audit/", audit_views.audit_list, name="audit"),
    path("audit/export/", audit_views.audit_export, name="audit_export"),
    path("audit/locks/<id:pk>/unlock/", audit_views.audit_unlock, name="audit_unlock"),
]
