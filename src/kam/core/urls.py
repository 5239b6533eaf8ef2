from django.contrib.auth import views as auth_views
from django.urls import path

from kam.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("pickers/users/", views.users_autocomplete, name="users_autocomplete"),
    path("pickers/contacts/", views.contacts_autocomplete, name="contacts_autocomplete"),
]
