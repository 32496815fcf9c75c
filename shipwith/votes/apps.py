from django.apps import AppConfig


class VotesConfig(AppConfig):
    name = "shipwith.votes"
    label = "votes"
