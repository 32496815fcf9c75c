"""Startup checks of the votes' settings: a typo should stop `shipwith up`, not a reader's vote."""

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from shipwith.core.limits import trusted_proxies
from shipwith.votes import limits


@register()
def settings_check(app_configs, **kwargs) -> list[Error]:
    errors = []
    for read in (
        lambda: trusted_proxies(getattr(settings, "SHIPWITH_TRUSTED_PROXIES", "") or ""),
        limits.ip_rate,
        limits.voter_rate,
        limits.new_voter_rate,
    ):
        try:
            read()
        except ImproperlyConfigured as error:
            errors.append(Error(str(error), id="shipwith.votes.E001"))
    return errors
