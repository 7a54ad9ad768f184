from django.urls import path

from console.teams import views

app_name = "teams"
urlpatterns = [
    path("", views.team_list, name="list"),
    path("new", views.team_new, name="new"),
    path("join/<str:secret>", views.join, name="join"),
    path("<int:team_id>/", views.team_detail, name="detail"),
    path("<int:team_id>/invites/new", views.invite_new, name="invite"),
    path("<int:team_id>/invites/<int:invite_id>/revoke", views.invite_revoke, name="invite_revoke"),
    path("<int:team_id>/members/<int:member_id>/role", views.member_role, name="member_role"),
    path("<int:team_id>/members/<int:member_id>/remove", views.member_remove, name="member_remove"),
    path("<int:team_id>/members/<int:member_id>/end-sessions", views.member_sessions, name="member_sessions"),
]
