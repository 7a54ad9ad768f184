from django.urls import path

from console.concepts import views

app_name = "concepts"
urlpatterns = [
    path("apps/<str:app_id>/concepts/", views.concept_list, name="list"),
    path("apps/<str:app_id>/concepts/new", views.concept_new, name="new"),
    path("apps/<str:app_id>/concepts/options", views.concept_options, name="options"),
    path("apps/<str:app_id>/concepts/<str:concept_id>/rename", views.concept_rename, name="rename"),
    path("apps/<str:app_id>/concepts/<str:concept_id>/", views.concept_detail, name="detail"),
    path("apps/<str:app_id>/concepts/<str:concept_id>/relations/add", views.relation_add, name="relation_add"),
    path(
        "apps/<str:app_id>/concepts/<str:concept_id>/relations/<str:relation_id>/delete",
        views.relation_delete,
        name="relation_delete",
    ),
    path(
        "apps/<str:app_id>/concepts/<str:concept_id>/remove-everywhere",
        views.concept_remove_everywhere,
        name="remove_everywhere",
    ),
]
