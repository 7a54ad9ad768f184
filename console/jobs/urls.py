from django.urls import path

from console.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("new", views.job_new, name="new"),
    path("remote", views.remote_jobs, name="remote"),
    path("<int:job_id>/", views.job_detail, name="detail"),
    path("<int:job_id>/cancel", views.job_cancel, name="cancel"),
    path("<int:job_id>/retry", views.job_retry, name="retry"),
    path("<int:job_id>/resume", views.job_resume, name="resume"),
]
