from django.urls import path

from dialogue import views

urlpatterns = [
    path("dialogues/", views.dialogue_list, name="dialogue_list"),
    path("dialogues/<slug:slug>/", views.dialogue_detail, name="dialogue_detail"),
    path("people/", views.person_list, name="person_list"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
]
