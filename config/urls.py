from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("tracker.urls")),
    path("", include("dialogue.urls")),
]

# Logs each refusal to tracker.security, then renders templates/403.html.
handler403 = "tracker.security.permission_denied"
