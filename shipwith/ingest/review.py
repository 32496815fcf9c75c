"""The editor's review queue in the admin: the undecided candidates with bulk decisions, and
one page per candidate with what it is, where it was seen, what it would change, the catalog
tools it may duplicate, and its three decisions. CandidateAdmin.get_urls serves both.

Candidate text comes from the outside world: templates autoescape it and a link is made only
of an http(s) URL."""

from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import Truncator

from shipwith.catalog.facts import FACTS, FactError
from shipwith.catalog.models import Category, LicenceKind, Tool
from shipwith.ingest import selectors
from shipwith.ingest.changes import PRICE, RELEASE, money
from shipwith.ingest.decisions import candidate_accept, candidate_reject
from shipwith.ingest.errors import IngestError
from shipwith.ingest.items import facts_renamed
from shipwith.ingest.merging import candidate_merge
from shipwith.ingest.models import Candidate, Status
from shipwith.ingest.nearest import tools_nearest

PAGE_SIZE = 50
SNIPPET_CHARS = 600
LABELS = {
    "homepage": "Homepage",
    "licence": "Licence",
    "licence_kind": "Kind of licence",
    "release_date": "Released",
    "open_weights": "Open weights",
    "context_length": "Context window",
    PRICE: "Input price",
    "price_output_per_mtok": "Output price",
    "tags": "Tags",
    RELEASE: "Release",
}


def _href(url: str) -> str:
    """The URL if a browser may follow it from this page (http or https), else ""."""
    return url if urlsplit(url or "").scheme.lower() in ("http", "https") else ""


def _shown(name: str, value) -> str:
    """A fact's value as an editor reads it."""
    if value is None or value == "":
        return "—"
    if fact := FACTS.get(name.removeprefix("fact:")):  # a registry key: as the pages say it
        try:
            return fact.display(fact.parse(value))
        except FactError:
            return str(value)
    if name == PRICE or name == "price_output_per_mtok":
        unit = "input" if name == PRICE else "output"
        return f"${money(value)} per 1M {unit} tokens"
    if name == "context_length" and isinstance(value, int):
        return f"{value:,} tokens"
    if name == "licence_kind":
        return dict(LicenceKind.choices).get(value, value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _label(name: str) -> str:
    if name not in LABELS and (fact := FACTS.get(name.removeprefix("fact:"))):
        return fact.label
    return LABELS.get(name, name.replace("_", " ").capitalize())


def _status(value: str | None) -> str:
    """The queue's status filter: a status the model has, else "" (every undecided one)."""
    return value if value in Status.values else ""


def _queue_url(status: str) -> str:
    url = reverse("admin:ingest_candidate_queue")
    return f"{url}?{urlencode({'status': status})}" if status else url


def _review_url(pk: int, status: str) -> str:
    url = reverse("admin:ingest_candidate_review", args=[pk])
    return f"{url}?{urlencode({'status': status})}" if status else url


def _allowed(model_admin: ModelAdmin, request: HttpRequest) -> None:
    if not model_admin.has_change_permission(request):
        raise PermissionDenied


def _context(model_admin: ModelAdmin, request: HttpRequest, title: str, status: str) -> dict:
    counts = selectors.candidate_status_counts()
    decided = set(selectors.DECIDED)
    tabs = [("", "Undecided", sum(n for s, n in counts.items() if s not in decided))]
    tabs += [(s, label, counts[s]) for s, label in Status.choices]
    return {
        **model_admin.admin_site.each_context(request),
        "opts": Candidate._meta,
        "title": title,
        "status": status,
        "tabs": [(_queue_url(s), label, n, s == status) for s, label, n in tabs],
        "queue_url": _queue_url(status),
    }


def _change_rows(candidate: Candidate) -> list[tuple[str, str, str]]:
    return [
        (_label(name), _shown(name, old), _shown(name, new))
        for name, (old, new) in candidate.changes.items()
    ]


def queue(request: HttpRequest, *, model_admin: ModelAdmin) -> HttpResponse:
    """The undecided candidates (or one status), with accept / reject for those selected."""
    _allowed(model_admin, request)
    status = _status(request.GET.get("status"))
    if request.method == "POST":
        _bulk(request, model_admin)
        return HttpResponseRedirect(request.get_full_path())
    page = Paginator(selectors.candidates_queue(status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "candidate": candidate,
            "url": _review_url(candidate.pk, status),
            "sources": list(dict.fromkeys(m.source_name for m in candidate.mentions.all())),
            "changes": _change_rows(candidate),
        }
        for candidate in page
    ]
    context = _context(model_admin, request, "Review candidates", status)
    context.update(page=page, rows=rows, decidable=not status or status not in selectors.DECIDED)
    return TemplateResponse(request, "ingest/review_queue.html", context)


def _bulk(request: HttpRequest, model_admin: ModelAdmin) -> None:
    action, reason = request.POST.get("bulk"), request.POST.get("reason", "")
    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
    if action not in ("accept", "reject"):
        return
    if not ids:
        messages.warning(request, "Select the candidates to decide first.")
        return
    if action == "reject" and not reason.strip():
        messages.error(request, "Write the reason for rejecting them.")
        return
    done = 0
    for candidate in Candidate.objects.filter(pk__in=ids).order_by("pk"):
        try:
            if action == "accept":
                candidate_accept(candidate_id=candidate.pk)
            else:
                candidate_reject(candidate_id=candidate.pk, reason=reason)
        except IngestError as exc:
            messages.error(request, str(exc))
            continue
        model_admin.log_change(request, candidate, f"{action.capitalize()}ed in the queue.")
        done += 1
    if done:
        verb = "Accepted" if action == "accept" else "Rejected"
        messages.success(request, f"{verb} {done} candidate{'s' if done != 1 else ''}.")


def _mention_rows(candidate: Candidate) -> list[dict]:
    return [
        {"mention": mention, "href": _href(mention.url)} for mention in candidate.mentions.all()
    ]


def _fact_rows(candidate: Candidate) -> list[dict]:
    sources = {m.pk: m for m in candidate.mentions.all()}
    rows = []
    for name, value in facts_renamed(candidate.facts).items():
        if name == "description":
            continue
        origin = sources.get(facts_renamed(candidate.fact_mentions).get(name))
        rows.append(
            {
                "label": _label(name),
                "value": _shown(name, value),
                "href": _href(value) if name == "homepage" else "",
                "origin": origin,
            }
        )
    return rows


def _snippet(candidate: Candidate) -> dict | None:
    """The start of the newest page read for it (a mention's page text), if any."""
    mention = next((m for m in candidate.mentions.all() if m.page_text), None)
    if mention is None:
        return None
    text = Truncator(" ".join(mention.page_text.split())).chars(SNIPPET_CHARS)
    return {"mention": mention, "href": _href(mention.url), "text": text}


def candidate_review(request: HttpRequest, pk: int, *, model_admin: ModelAdmin) -> HttpResponse:
    """One candidate and its decisions; after one, the next undecided candidate."""
    _allowed(model_admin, request)
    status = _status(request.GET.get("status"))
    candidate = get_object_or_404(
        Candidate.objects.select_related("tool", "category", "tool__vendor").prefetch_related(
            "mentions"
        ),
        pk=pk,
    )
    if request.method == "POST":
        return _decide(request, model_admin, candidate, status)
    undecided = candidate.status not in selectors.DECIDED
    context = _context(model_admin, request, candidate.name, status)
    context.update(
        candidate=candidate,
        undecided=undecided,
        description=candidate.facts.get("description") or "",
        mentions=_mention_rows(candidate),
        facts=_fact_rows(candidate),
        changes=_change_rows(candidate),
        snippet=_snippet(candidate),
        nearest=tools_nearest(candidate) if undecided else [],
        categories=Category.objects.order_by("name"),
        can_accept=candidate.status != Status.DUPLICATE,
        needs_category=candidate.tool_id is None,
        next=selectors.candidate_next(after=candidate, status=status),
    )
    return TemplateResponse(request, "ingest/review_candidate.html", context)


def _merge_target(request: HttpRequest) -> int:
    """The tool picked among the nearest, or the one whose slug the editor typed."""
    if slug := request.POST.get("tool_slug", "").strip():
        tool_id = Tool.objects.filter(slug=slug).values_list("pk", flat=True).first()
        if tool_id is None:
            raise IngestError(f"no catalog tool has the slug '{slug}'")
        return tool_id
    if (value := request.POST.get("tool", "")).isdigit():
        return int(value)
    raise IngestError("choose the catalog tool to merge it into")


def _decide(
    request: HttpRequest, model_admin: ModelAdmin, candidate: Candidate, status: str
) -> HttpResponse:
    decision = request.POST.get("decision")
    try:
        if decision == "accept":
            category = request.POST.get("category") or None
            tool = candidate_accept(candidate_id=candidate.pk, category_slug=category)
            done = f"Accepted “{candidate.name}”: it is “{tool.name}” in the catalog."
        elif decision == "reject":
            candidate_reject(candidate_id=candidate.pk, reason=request.POST.get("reason", ""))
            done = f"Rejected “{candidate.name}”."
        elif decision == "merge":
            merged = candidate_merge(candidate_id=candidate.pk, tool_id=_merge_target(request))
            done = f"Merged “{candidate.name}” into “{merged.tool.name}”."
        else:
            raise IngestError(f"unknown decision {decision!r}")
    except IngestError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(_review_url(candidate.pk, status))
    model_admin.log_change(request, candidate, done)
    messages.success(request, done)
    following = selectors.candidate_next(after=candidate, status=status)
    if following is None:
        messages.info(request, "Nothing left to decide here.")
        return HttpResponseRedirect(_queue_url(status))
    return HttpResponseRedirect(_review_url(following.pk, status))
