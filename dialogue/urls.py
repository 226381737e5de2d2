from django.urls import path

from dialogue import import_views, views

urlpatterns = [
    path("dialogues/", views.dialogue_list, name="dialogue_list"),
    path("dialogues/import/", import_views.report_import, name="report_import"),
    path(
        "dialogues/import/confirm", import_views.report_import_confirm, name="report_import_confirm"
    ),
    path("dialogues/<slug:slug>/", views.dialogue_detail, name="dialogue_detail"),
    path("people/", views.person_list, name="person_list"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
]
