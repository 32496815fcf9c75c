from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "shipwith.web"
    label = "web"
