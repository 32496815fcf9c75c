from django.urls import path

from shipwith.votes import views

app_name = "votes"

urlpatterns = [
    path("tools/<slug:slug>/vote/", views.tool_vote, name="tool"),
    path("tools/<slug:slug>/vote/withdraw/", views.tool_withdraw, name="tool_withdraw"),
    path("compare/<slug:pair>/vote/", views.pair_vote, name="pair"),
    path("compare/<slug:pair>/vote/withdraw/", views.pair_withdraw, name="pair_withdraw"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("leaderboard/<slug:category>/", views.leaderboard, name="leaderboard_category"),
]
