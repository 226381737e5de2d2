from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

# Of django.contrib.auth's pages, only logging in and out and changing one's password:
# no password reset by e-mail (the tracker sends no mail; an administrator resets
# passwords in the admin), so no anonymous page that writes or sends anything.
accounts = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

urlpatterns = [
    path("accounts/", include(accounts)),
    path("admin/", admin.site.urls),
    path("", include("tracker.urls")),
    path("", include("dialogue.urls")),
]

# Logs each refusal to tracker.security, then renders templates/403.html.
handler403 = "tracker.security.permission_denied"
