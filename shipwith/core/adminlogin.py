"""The admin's sign-in page, with a limit on attempts per client address."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from shipwith.core.client import client_ip
from shipwith.core.limits import limit_exceeded
from shipwith.core.rates import rate_setting


def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """Django's admin login; past SHIPWITH_ADMIN_LOGIN_RATE attempts, 429 with Retry-After."""
    if request.method == "POST":
        rate = rate_setting("SHIPWITH_ADMIN_LOGIN_RATE")
        if wait := limit_exceeded(f"admin-login:{client_ip(request)}", rate):
            response = HttpResponse(
                f"Too many sign-in attempts from your address: try again in {wait} seconds.\n",
                content_type="text/plain; charset=utf-8",
                status=429,
            )
            response["Retry-After"] = str(wait)
            response["Cache-Control"] = "no-store"
            return response
    return admin.site.login(request, extra_context)
