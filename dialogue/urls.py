from django.urls import path

from dialogue import views

urlpatterns = [
    path("dialogues/<slug:slug>/", views.dialogue_detail, name="dialogue_detail"),
]
