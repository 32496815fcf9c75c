"""Measure how well a model reviews: review a sample of tools twice, without storing reviews.

The figures tell an editor which model to run the panel on (README: "Choosing a model").
"""

import functools
import itertools
import random
import re
import time
from dataclasses import asdict, dataclass
from statistics import fmean

from rapidfuzz.distance import Indel

from shipwith.catalog.models import Tool
from shipwith.panel import runner
from shipwith.panel.asking import review_ask, review_request
from shipwith.panel.grounding import figures_checked, quotes_locate
from shipwith.panel.llm import LLMError, default_model_spec, model_for
from shipwith.panel.models import PanelEval, Persona
from shipwith.panel.schema import ReviewOutput

RUNS = 2
SAMPLE_SEED = 0  # the same tools every time, so two models are measured on the same sample
_WORD = re.compile(r"\w+")


@dataclass
class EvalFigures:
    reviews: int
    failed: int
    valid_first_try: float
    repairs: int
    quotes_verified: int
    quotes_dropped: int
    facts_supported: int  # prices and context sizes stated that the facts support
    facts_contradicted: int  # takes stating a price or context size the facts contradict
    facts_contradicted_share: float | None  # of the takes written
    persona_similarity: float | None
    rerun_similarity: float | None
    verdict_stability: float | None
    seconds_per_review: float


def similarity(one: str, two: str) -> float:
    """1.0 for the same words in the same order, falling towards 0 as the takes differ."""
    return Indel.normalized_similarity(_WORD.findall(one.lower()), _WORD.findall(two.lower()))


def _mean(values: list[float]) -> float | None:
    return round(fmean(values), 4) if values else None


def eval_sample(*, model_vendor: str, tools: int) -> list[Tool]:
    """A fixed sample of tools the model may judge (never its own vendor's)."""
    eligible = list(
        Tool.objects.exclude(vendor__slug=model_vendor).order_by("pk").values_list("pk", flat=True)
        if model_vendor
        else Tool.objects.order_by("pk").values_list("pk", flat=True)
    )
    chosen = random.Random(SAMPLE_SEED).sample(eligible, min(tools, len(eligible)))
    found = Tool.objects.with_relations().prefetch_related("tiers", "sources").in_bulk(chosen)
    return [found[pk] for pk in chosen]


def panel_eval(*, model_spec: str | None = None, tools: int = 5) -> PanelEval:
    """Review `tools` tools twice with every active persona; store and return the figures."""
    spec = model_spec or default_model_spec()
    model = model_for(spec)
    personas = list(Persona.objects.filter(active=True))
    sample = eval_sample(model_vendor=model.vendor, tools=tools)
    if not personas or not sample:
        raise LLMError("nothing to evaluate: the panel needs active personas and tools")
    requests = {tool.pk: review_request(tool, personas=personas, models=[model]) for tool in sample}
    outcomes: dict[tuple[int, int, int], object] = {}
    started = time.monotonic()
    for run, tool in itertools.product(range(RUNS), sample):
        request = requests[tool.pk]
        calls = [
            (
                (tool.pk, persona.pk, run),
                functools.partial(review_ask, model, request, request.prompt(persona)),
            )
            for persona in personas
        ]
        parallel, in_turn = (calls, []) if model.concurrent else ([], calls)
        for key, outcome in runner.as_completed(parallel=parallel, in_turn=in_turn):
            outcomes[key] = outcome
    elapsed = time.monotonic() - started
    figures = _figures(outcomes, requests, elapsed)
    return PanelEval.objects.create(
        model_spec=spec, model_id=model.model_id, tools=len(sample), figures=asdict(figures)
    )


def _figures(outcomes: dict, requests: dict, elapsed: float) -> EvalFigures:
    answered: dict[tuple[int, int, int], ReviewOutput] = {}
    first_try = repairs = verified = dropped = supported = contradicted = 0
    for key, outcome in outcomes.items():
        if isinstance(outcome, BaseException):
            continue
        completion, output = outcome
        answered[key] = output
        first_try += completion.repairs == 0
        repairs += completion.repairs
        found, lost = quotes_locate(output.evidence_quotes, requests[key[0]].sources)
        verified, dropped = verified + len(found), dropped + len(lost)
        figures = figures_checked(output, requests[key[0]].facts)
        supported += len(figures.supported)
        contradicted += bool(figures.contradicted)
    between, rerun, same = [], [], []
    tools = {key[0] for key in outcomes}
    personas = {key[1] for key in outcomes}
    for tool, run in itertools.product(tools, range(RUNS)):
        takes = [answered[(tool, p, run)].take for p in personas if (tool, p, run) in answered]
        between += [similarity(x, y) for x, y in itertools.combinations(takes, 2)]
    for tool, persona in itertools.product(tools, personas):
        runs = [answered.get((tool, persona, run)) for run in range(RUNS)]
        if all(runs):
            rerun += [similarity(x.take, y.take) for x, y in itertools.combinations(runs, 2)]
            same.append(len({output.verdict for output in runs}) == 1)
    total = len(outcomes)
    return EvalFigures(
        reviews=total,
        failed=total - len(answered),
        valid_first_try=round(first_try / total, 4),
        repairs=repairs,
        quotes_verified=verified,
        quotes_dropped=dropped,
        facts_supported=supported,
        facts_contradicted=contradicted,
        facts_contradicted_share=round(contradicted / len(answered), 4) if answered else None,
        persona_similarity=_mean(between),
        rerun_similarity=_mean(rerun),
        verdict_stability=_mean([float(x) for x in same]),
        seconds_per_review=round(elapsed / total, 3),
    )
