from django.apps import AppConfig


class VotesConfig(AppConfig):
    name = "shipwith.votes"
    label = "votes"

    def ready(self) -> None:
        from shipwith.votes import checks  # noqa: F401 (registers the settings check)
