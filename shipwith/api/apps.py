from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "shipwith.api"
    label = "api"
    verbose_name = "API"
