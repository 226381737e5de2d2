"""The project's URLs plus a view that fails, for the 500 page test."""

from django.urls import path

from config.urls import handler403, urlpatterns

__all__ = ["handler403", "urlpatterns"]


def broken(request):
    raise RuntimeError("secret-internal-detail: password=hunter2 at /srv/app/settings.py")


urlpatterns = [path("broken/", broken), *urlpatterns]
