from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    name = "shipwith.newsletter"
    label = "newsletter"
