"""Start-up checks of the project-wide settings: a typo should stop `shipwith up`, not a
reader's request."""

import functools

from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured

from shipwith.core.client import trusted_proxies_setting
from shipwith.core.rates import RATE_SETTINGS, rate_setting


def settings_check(app_configs=None, **kwargs) -> list[Error]:
    """Read SHIPWITH_TRUSTED_PROXIES and every rate setting the way requests will."""
    reads = [trusted_proxies_setting]
    reads += [functools.partial(rate_setting, name) for name in RATE_SETTINGS]
    errors = []
    for read in reads:
        try:
            read()
        except ImproperlyConfigured as error:
            errors.append(Error(str(error), id="shipwith.core.E001"))
    return errors
