from django.contrib import admin
from django.urls import include, path

from shipwith.api.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("newsletter/", include("shipwith.newsletter.urls")),
    path("", include("shipwith.votes.urls")),
    path("", include("shipwith.web.urls")),
]
