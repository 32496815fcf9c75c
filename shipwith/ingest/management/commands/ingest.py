import json
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from shipwith.ingest import selectors
from shipwith.ingest.decisions import candidate_accept, candidate_reject
from shipwith.ingest.errors import IngestError
from shipwith.ingest.models import IngestSource, Kind, Status
from shipwith.ingest.refresh import sources_refresh
from shipwith.ingest.run import ingest_run
from shipwith.ingest.sources import interval_parse, source_add
from shipwith.ingest.tasks import poll_soon, polling_schedule

# A source failing this many runs in a row is called out at the end of a run.
FAILING = 3


def _option(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise CommandError(f"--option {text!r}: expected key=value, e.g. min_likes=50")
    try:
        parsed = json.loads(value)  # numbers, true/false, lists
    except ValueError:
        parsed = value
    return key.strip(), parsed


class Command(BaseCommand):
    help = "Find new tools and changed facts: sources, runs, candidates, decisions."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sources = sub.add_parser("sources", help="Add or list sources.")
        verbs = sources.add_subparsers(dest="verb", required=True)
        add = verbs.add_parser("add", help="Add a source.")
        add.add_argument("name")
        add.add_argument("--kind", required=True, choices=Kind.values)
        add.add_argument("--url", default="", help="Default: the kind's public URL.")
        add.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
        add.add_argument("--category", help="Category slug proposed for what it finds.")
        add.add_argument("--autopublish", action="store_true", help="Accept without an editor.")
        add.add_argument(
            "--updates-only",
            action="store_true",
            help="Only changes of catalog tools (a release feed): never propose a new tool.",
        )
        add.add_argument(
            "--every",
            metavar="DURATION",
            help="How often it is read: 30s, 15m, 1h, 1d "
            "(default: the kind's, e.g. 15m for hackernews, 1h for openrouter, 6h for feed).",
        )
        add.add_argument(
            "--no-baseline",
            action="store_true",
            help="Everything its first run lists is new (a curated feed of launches), not "
            "back catalog (backlog).",
        )
        verbs.add_parser("list", help="Sources with their health.")
        run = sub.add_parser("run", help="Read sources into candidates (all enabled by default).")
        run.add_argument("names", nargs="*", metavar="NAME")
        sub.add_parser("refresh", help="Re-fetch every tool's source pages (conditional GET).")
        sub.add_parser(
            "schedule",
            help="Queue the polling of the sources and the daily refresh of the tools' pages "
            "on the task worker (`up` does it).",
        )
        listing = sub.add_parser("candidates", help="List candidates.")
        listing.add_argument("--status", choices=Status.values)
        listing.add_argument("--json", action="store_true", help="One JSON object per line.")
        accept = sub.add_parser("accept", help="Accept candidates.")
        accept.add_argument("ids", nargs="+", type=int, metavar="ID")
        accept.add_argument("--category", help="Category slug for a new tool.")
        reject = sub.add_parser("reject", help="Reject candidates; they are not proposed again.")
        reject.add_argument("ids", nargs="+", type=int, metavar="ID")
        reject.add_argument("--reason", required=True)

    def handle(self, *args, action: str, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except IngestError as exc:
            raise CommandError(str(exc)) from None

    def _sources(self, *, verb: str, **options):
        if verb == "add":
            every = options["every"]
            source = source_add(
                name=options["name"],
                kind=options["kind"],
                url=options["url"],
                options=dict(_option(text) for text in options["option"]),
                category_slug=options["category"],
                autopublish=options["autopublish"],
                updates_only=options["updates_only"],
                interval=interval_parse(every) if every else None,
                baseline=not options["no_baseline"],
            )
            poll_soon()
            first = (
                "everything it lists is new"
                if source.baseline_at
                else "its first run records what it lists as back catalog (backlog)"
            )
            self.stdout.write(
                f"Added source '{source.name}' ({source.kind}, read every "
                f"{_every(source.every)}); {first}."
            )
            return
        for source in IngestSource.objects.select_related("category_hint"):
            state = "enabled" if source.enabled else "disabled"
            success = (
                f"{source.last_success_at:%Y-%m-%d %H:%M}" if source.last_success_at else "never"
            )
            upcoming = f"{source.next_run_at:%Y-%m-%d %H:%M}" if source.next_run_at else "now"
            line = (
                f"{source.name}\t{source.kind}\t{source.url or '(default URL)'}\t{state}\t"
                f"every {_every(source.every)}\tlast success {success}\tnext {upcoming}\t"
                f"{source.items_seen} items"
            )
            if source.baseline_at is None:
                line += "\tbaseline next (first run: backlog)"
            if source.failures_in_row:
                line += f"\tFAILING {source.failures_in_row} in a row: {source.last_error[:200]}"
            self.stdout.write(line)

    def _run(self, *, names: list[str], **options):
        with tqdm(unit="item", file=sys.stderr, dynamic_ncols=True, desc="ingest") as bar:
            reports = ingest_run(names=names, tick=lambda: bar.update(1))
        failed = False
        for report in reports:
            self.stdout.write(str(report))
            for problem in report.problems:
                self.stderr.write(f"  {problem}")
            if report.error:
                failed = True
                if report.failures_in_row >= FAILING:
                    self.stderr.write(
                        f"  source '{report.name}' has failed {report.failures_in_row} runs "
                        "in a row: fix or disable it"
                    )
        if failed:
            raise CommandError("some sources failed (see above); the others were read")

    def _refresh(self, **options):
        with tqdm(unit="page", file=sys.stderr, dynamic_ncols=True, desc="refresh") as bar:
            report = sources_refresh(tick=lambda: bar.update(1))
        for problem in report.errors:
            self.stderr.write(f"  {problem}")
        self.stdout.write(str(report))

    def _schedule(self, **options):
        if not polling_schedule():
            raise CommandError("polling is off (SHIPWITH_INGEST_POLL=0)")
        self.stdout.write("Polling queued: the task worker reads each source when it is due.")

    def _candidates(self, *, status: str | None, json: bool, **options):
        for candidate in selectors.candidates_listed(status):
            # In the order the sources first mentioned it.
            mentions = sorted(candidate.mentions.all(), key=lambda m: m.pk)
            sources = list(dict.fromkeys(m.source_name for m in mentions))
            if json:
                self.stdout.write(_json_line(candidate, sources))
                continue
            target = f" → {candidate.tool.slug}" if candidate.tool else ""
            category = candidate.category.slug if candidate.category else "no category"
            changes = "; ".join(
                f"{name}: {old} → {new}" for name, (old, new) in candidate.changes.items()
            )
            self.stdout.write(
                f"{candidate.pk}\t{candidate.status}\t{candidate.name}{target}\t{category}\t"
                f"{', '.join(sources)}" + (f"\t{changes}" if changes else "")
            )

    def _accept(self, *, ids: list[int], category: str | None, **options):
        self._each(ids, lambda pk: candidate_accept(candidate_id=pk, category_slug=category))

    def _reject(self, *, ids: list[int], reason: str, **options):
        self._each(ids, lambda pk: candidate_reject(candidate_id=pk, reason=reason))

    def _each(self, ids: list[int], decide) -> None:
        failed = []
        for pk in ids:
            try:
                result = decide(pk)
            except IngestError as exc:
                failed.append(str(exc))
                self.stderr.write(str(exc))
                continue
            if hasattr(result, "slug"):
                self.stdout.write(f"{pk}: accepted as {result.slug}")
            else:
                self.stdout.write(f"{pk}: rejected")
        if failed:
            raise CommandError(f"{len(failed)} of {len(ids)} not decided (see above)")


def _every(every) -> str:
    seconds = int(every.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _json_line(candidate, sources: list[str]) -> str:
    return json.dumps(
        {
            "id": candidate.pk,
            "name": candidate.name,
            "status": candidate.status,
            "tool": candidate.tool.slug if candidate.tool else None,
            "category": candidate.category.slug if candidate.category else None,
            "sources": sources,
            "changes": candidate.changes,
        },
        ensure_ascii=False,
    )
