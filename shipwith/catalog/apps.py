from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "shipwith.catalog"
    label = "catalog"
