from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from shipwith.api.api import api
from shipwith.core.adminlogin import admin_login

# The admin's index shows the operator's status above the app list (shipwith/status.py).
admin.site.index_template = "shipwith/admin_index.html"

urlpatterns = [
    # deployment: the admin's sign-in is rate-limited; browsers that ask for /favicon.ico
    # (the admin's pages have no icon link) get the site's icon.
    path("admin/login/", admin_login),
    path("favicon.ico", RedirectView.as_view(url=static("web/favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("newsletter/", include("shipwith.newsletter.urls")),
    path("", include("shipwith.votes.urls")),
    path("", include("shipwith.web.urls")),
]
