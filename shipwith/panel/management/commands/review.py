from django.core.management.base import BaseCommand, CommandError

from shipwith.catalog.models import Tool
from shipwith.panel.llm import LOW_CAPABILITY_NOTE, LLMError, default_model_spec, model_for
from shipwith.panel.llm.discover import AUTO, model_auto_choose, model_setting
from shipwith.panel.models import is_low_capability
from shipwith.panel.progress import panels_run_with_progress
from shipwith.panel.selectors import runs_to_finish


class Command(BaseCommand):
    help = "Run the reviewer panel on tools now, in the foreground, with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", metavar="SLUG")
        parser.add_argument(
            "--all", action="store_true", dest="all_tools", help="Review every tool."
        )
        parser.add_argument(
            "--incomplete",
            action="store_true",
            help="Ask again only the failed (or recused, once an alternate is set) seats of "
            "incomplete panels; seats that answered are never asked again.",
        )
        parser.add_argument(
            "--model",
            default=None,
            help='Model for every persona, e.g. "local", "openai:MODEL", "anthropic:MODEL" '
            "(default: each persona's model, else SHIPWITH_LLM).",
        )

    def handle(
        self,
        *args,
        slugs: list[str],
        all_tools: bool,
        model: str | None,
        incomplete: bool = False,
        **options,
    ):
        if sum([bool(slugs), all_tools, incomplete]) != 1:
            raise CommandError(
                "name tools by slug, or pass --all or --incomplete (only one, not both)"
            )
        if incomplete and model:
            raise CommandError("--incomplete finishes each run with the model it started with")
        tools = Tool.objects.order_by("name")
        run_ids: list[int] = []
        if incomplete:
            tool_ids, run_ids = [], runs_to_finish()
            self.stdout.write(f"Finishing {len(run_ids)} incomplete panels…")
        elif slugs:
            found = dict(tools.filter(slug__in=slugs).values_list("slug", "pk"))
            if unknown := [slug for slug in slugs if slug not in found]:
                raise CommandError(f"no tool with slug: {', '.join(unknown)}")
            tool_ids = [found[slug] for slug in slugs]
        else:
            tool_ids = list(tools.values_list("pk", flat=True))
        if not model and model_setting() == AUTO:
            self.stderr.write(model_auto_choose().message)  # which model auto found, and why
        spec = model or default_model_spec()
        try:
            low = is_low_capability(model_for(spec).provider)
        except LLMError as exc:
            raise CommandError(str(exc)) from exc
        if low:
            self.stderr.write(self.style.WARNING(f"Note: {LOW_CAPABILITY_NOTE}"))
        runs = panels_run_with_progress(
            tool_ids=tool_ids, run_ids=run_ids, model_spec=model, write=self.stdout.write
        )
        complete = sum(run.status == "complete" for run in runs)
        self.stdout.write(f"{complete} of {len(runs)} panels complete.")
