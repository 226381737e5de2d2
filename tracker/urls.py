from django.urls import path

from tracker import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("status-colours.css", views.status_css, name="status_css"),
]
