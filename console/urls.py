from django.urls import include, path

urlpatterns = [
    path("", include("console.localapi.urls")),
    path("", include("console.core.urls")),
    path("accounts/", include("console.accounts.urls")),
    path("connections/", include("console.connections.urls")),
    path("c/<int:conn_id>/apps/", include("console.apps.urls")),
    path("c/<int:conn_id>/", include("console.inputs.urls")),
    path("c/<int:conn_id>/", include("console.concepts.urls")),
]
