import json

from django.core.management.base import BaseCommand, CommandError

from shipwith.panel.evaluation import panel_eval
from shipwith.panel.llm import LLMError
from shipwith.panel.llm.discover import AUTO, model_auto_choose, model_setting

LABELS = [
    ("valid_first_try", "Valid on the first try", "{:.0%}"),
    ("repairs", "Repairs needed", "{}"),
    ("quotes_verified", "Quotes verified", "{}"),
    ("quotes_dropped", "Quotes dropped as unverified", "{}"),
    ("facts_supported", "Figures the facts support", "{}"),
    ("facts_contradicted", "Takes the facts contradict", "{}"),
    ("facts_contradicted_share", "Takes the facts contradict (share)", "{:.0%}"),
    ("persona_similarity", "Similarity between personas", "{:.2f}"),
    ("rerun_similarity", "Similarity of a persona's re-run", "{:.2f}"),
    ("verdict_stability", "Verdicts unchanged on re-run", "{:.0%}"),
    ("seconds_per_review", "Seconds per review", "{:.1f}"),
    ("failed", "Reviews that failed", "{}"),
]


class Command(BaseCommand):
    help = "Panel tools for editors: `panel eval` measures how well a model reviews."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        evaluate = actions.add_parser(
            "eval",
            help="Review a sample of tools twice and report quality figures (stores nothing "
            "but the figures).",
        )
        evaluate.add_argument("--model", default=None, help="Model spec (default: SHIPWITH_LLM).")
        evaluate.add_argument("--tools", type=int, default=5, help="How many tools to sample.")
        evaluate.add_argument(
            "--json", action="store_true", dest="as_json", help="Print one JSON object."
        )

    def handle(self, *args, action: str, **options):
        if options["tools"] < 1:
            raise CommandError("--tools must be at least 1")
        if not options["model"] and model_setting() == AUTO:
            self.stderr.write(model_auto_choose().message)  # stdout may be one JSON object
        try:
            result = panel_eval(model_spec=options["model"], tools=options["tools"])
        except LLMError as exc:
            raise CommandError(str(exc)) from exc
        figures = result.figures
        if options["as_json"]:
            report = {"model": result.model_spec, "model_id": result.model_id}
            self.stdout.write(json.dumps(report | {"tools": result.tools} | figures))
            return
        self.stdout.write(
            f"{result.model_spec} ({result.model_id}) on {result.tools} tools, each twice:"
        )
        for key, label, form in LABELS:
            value = figures.get(key)
            shown = "—" if value is None else form.format(value)
            self.stdout.write(f"  {label:<34} {shown}")
        low, high = figures.get("persona_similarity"), figures.get("rerun_similarity")
        if low is not None and high is not None and low >= high:
            self.stdout.write(
                self.style.WARNING(
                    "The personas write alike: their takes are no more different from each other "
                    "than one persona's two runs. A stronger model keeps the lenses apart."
                )
            )
