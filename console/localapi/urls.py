from django.urls import re_path

from console.localapi import views

urlpatterns = [re_path(r"^v2/", views.api)]
