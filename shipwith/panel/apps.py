from django.apps import AppConfig


class PanelConfig(AppConfig):
    name = "shipwith.panel"
    label = "panel"
