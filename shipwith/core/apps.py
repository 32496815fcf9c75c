from django.apps import AppConfig
from django.core import checks

from shipwith.core.checks import settings_check


class CoreConfig(AppConfig):
    name = "shipwith.core"
    label = "core"

    def ready(self) -> None:
        checks.register(settings_check)
