from django.apps import AppConfig


class ComparisonsConfig(AppConfig):
    name = "shipwith.comparisons"
    label = "comparisons"
