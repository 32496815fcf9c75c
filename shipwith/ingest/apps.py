from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "shipwith.ingest"
    label = "ingest"
    verbose_name = "Ingest"
