from django.urls import path

from kam.home import views

urlpatterns = [
    path("", views.home, name="home"),
    path("pickers/users/", views.users_autocomplete, name="users_autocomplete"),
    path("pickers/contacts/", views.contacts_autocomplete, name="contacts_autocomplete"),
]
