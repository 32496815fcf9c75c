from django.apps import AppConfig


class ComparisonsConfig(AppConfig):
    name = "shipwith.comparisons"
    label = "comparisons"

    def ready(self) -> None:
        from django_tasks.signals import task_finished

        from shipwith.comparisons import tasks  # lazy: tasks load models, ready only now

        task_finished.connect(tasks.panel_task_finished, dispatch_uid="comparisons-panel-done")
