from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shipwith.core"
    label = "core"
