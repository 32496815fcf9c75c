from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class ApiConfig(AppConfig):
    name = "shipwith.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        checks.register(check_rates, checks.Tags.compatibility)


def check_rates(app_configs=None, **kwargs) -> list[checks.Error]:
    """A rate the limiter cannot read would fail every API request: say so at start-up."""
    from shipwith.core.limits import rate_parse

    errors = []
    for name, default in (("SHIPWITH_API_RATE", "300/m"), ("SHIPWITH_API_WRITE_RATE", "60/m")):
        value = getattr(settings, name, default)
        try:
            count, _ = rate_parse(value)
            if count < 1:
                raise ValueError(value)
        except (ValueError, KeyError, AttributeError, TypeError):
            errors.append(
                checks.Error(
                    f"{name}={value!r} is not a rate: write N/s, N/m, N/h or N/d, e.g. 300/m.",
                    id="shipwith_api.E001",
                )
            )
    return errors
