from django.urls import path

from shipwith.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("tools/<slug:slug>/", views.tool_detail, name="tool"),
    path("categories/<slug:slug>/", views.category_detail, name="category"),
]
