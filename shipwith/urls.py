from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("newsletter/", include("shipwith.newsletter.urls")),
    path("", include("shipwith.votes.urls")),
    path("", include("shipwith.web.urls")),
]
