from django.urls import path

from tracker import dashboard, exports, status_import, views

urlpatterns = [
    path("", dashboard.dashboard, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("status-colours.css", views.status_css, name="status_css"),
    path("recommendations/", views.recommendation_list, name="recommendation_list"),
    path("recommendations/export.csv", exports.export_csv, name="export_csv"),
    path("recommendations/export.json", exports.export_json, name="export_json"),
    path("review/", exports.review_pack, name="review_pack"),
    path("recommendations/import/", status_import.status_import, name="status_import"),
    path(
        "recommendations/import/confirm",
        status_import.status_import_confirm,
        name="status_import_confirm",
    ),
    path("recommendations/<int:pk>/", views.recommendation_detail, name="recommendation_detail"),
    path(
        "recommendations/<int:pk>/status",
        views.recommendation_status,
        name="recommendation_status",
    ),
    path("recommendations/<int:pk>/notes", views.recommendation_note, name="recommendation_note"),
    path("recommendations/<int:pk>/owner", views.recommendation_owner, name="recommendation_owner"),
    path(
        "recommendations/<int:pk>/priority",
        views.recommendation_priority,
        name="recommendation_priority",
    ),
    path(
        "recommendations/<int:pk>/suggestions/<int:suggestion_pk>/confirm",
        views.suggestion_decide,
        {"decision": "confirm"},
        name="suggestion_confirm",
    ),
    path(
        "recommendations/<int:pk>/suggestions/<int:suggestion_pk>/remove",
        views.suggestion_decide,
        {"decision": "remove"},
        name="suggestion_remove",
    ),
    path(
        "recommendations/<int:pk>/review",
        views.recommendation_review,
        name="recommendation_review",
    ),
]
