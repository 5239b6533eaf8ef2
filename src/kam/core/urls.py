from django.contrib.auth import views as auth_views
from django.urls import path

from kam.core import audit_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("logout/everywhere/", views.logout_everywhere, name="logout_everywhere"),
    path("pickers/users/", views.users_autocomplete, name="users_autocomplete"),
    path("pickers/contacts/", views.contacts_autocomplete, name="contacts_autocomplete"),
    path("audit/", audit_views.audit_list, name="audit"),
    path("audit/export/", audit_views.audit_export, name="audit_export"),
    path("audit/locks/<id:pk>/unlock/", audit_views.audit_unlock, name="audit_unlock"),
]
