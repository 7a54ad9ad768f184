from django.urls import path

from console.concepts import views

app_name = "concepts"
urlpatterns = [
    path("apps/<str:app_id>/concepts/", views.concept_list, name="list"),
    path("apps/<str:app_id>/concepts/new", views.concept_new, name="new"),
    path("apps/<str:app_id>/concepts/options", views.concept_options, name="options"),
    path("apps/<str:app_id>/concepts/<str:concept_id>/rename", views.concept_rename, name="rename"),
]
