from django.urls import include, path

urlpatterns = [
    path("", include("console.localapi.urls")),
    path("", include("console.core.urls")),
]
