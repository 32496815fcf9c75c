from django.apps import AppConfig
from django_tasks.signals import task_finished


class ComparisonsConfig(AppConfig):
    name = "shipwith.comparisons"
    label = "comparisons"

    def ready(self) -> None:
        from shipwith.comparisons import tasks  # lazy: tasks load models, ready only now

        # A panel that ends may make a moderator's read due (tasks.panel_task_finished).
        task_finished.connect(tasks.panel_task_finished, dispatch_uid="comparisons-panel-done")
