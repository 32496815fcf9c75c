from django.apps import AppConfig


class ShipwithConfig(AppConfig):
    """The project itself: the top layer, where `up` wires every app together."""

    name = "shipwith"
    label = "shipwith_project"
    verbose_name = "shipwith"
