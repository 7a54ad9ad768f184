from django.urls import path

from console.labeling import dashboard, work

app_name = "labeling_work"
urlpatterns = [
    path("", dashboard.task, name="task"),
    path("activity/", dashboard.activity, name="activity"),
    path("work/", work.work, name="work"),
    path("work/submit", work.submit, name="submit"),
    path("review/", work.review, name="review"),
    path("review/decide", work.decide, name="decide"),
    path("review/labeler", work.decide_labeler, name="decide_labeler"),
    path("identity", work.identity, name="identity"),
]
