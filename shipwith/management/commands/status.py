import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Sequence

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from shipwith.status import OperatorStatus, operator_status

EXIT_ATTENTION = 2
NONE = "—"


def ago(delta: dt.timedelta) -> str:
    """A duration as an operator reads it at a glance: "45 s", "12 min", "3 h", "4 d"."""
    seconds = abs(delta.total_seconds())
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


def when(moment: dt.datetime | None, now: dt.datetime, *, relative: bool = True) -> str:
    if moment is None:
        return NONE
    text = f"{moment:%Y-%m-%d %H:%M}"
    if not relative:
        return text
    return (
        f"{text} (in {ago(moment - now)})" if moment > now else f"{text} ({ago(now - moment)} ago)"
    )


def table(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Rows as lines with aligned columns (the last column is not padded)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)] if rows else []
    return [
        indent
        + "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "The operator's one screen: the panel model (and whether its panels are drafts), each "
        "ingest source's health and next run, candidates waiting, incomplete panels, tasks "
        "queued and failed, the next newsletter send. Exits 2 when something needs the "
        "operator: an enabled source whose last run failed, a task failed in the last 24 h, a "
        "task due for over 1 h while none is running (no worker), or a panel model that cannot "
        "be used; 0 otherwise. The admin's index shows the same."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="One JSON object (keys: generated_at, needs_attention, model, panels, sources, "
            "next_ingest_at, candidates, tasks, newsletter; times in ISO 8601, UTC).",
        )

    def handle(self, *args, as_json: bool = False, **options):
        status = operator_status()
        if as_json:
            self.stdout.write(_json(status))
        else:
            self.stdout.write("\n".join(self._screen(status)))
        if status.needs_attention:
            count = len(status.needs_attention)
            raise CommandError(
                f"{count} {'thing needs' if count == 1 else 'things need'} the operator",
                returncode=EXIT_ATTENTION,
            )

    def _paint(self, style: Callable[[str], str]) -> Callable[[str], str]:
        """Colour only on a terminal: a pipe or a file gets plain text."""
        return style if self.stdout.isatty() else str

    def _screen(self, status: OperatorStatus) -> list[str]:
        now = status.generated_at
        bad, good, note = (
            self._paint(self.style.ERROR),
            self._paint(self.style.SUCCESS),
            self._paint(self.style.WARNING),
        )
        lines = [f"shipwith status · {now:%Y-%m-%d %H:%M} UTC", ""]

        model, panels = status.model, status.panels
        draft = {True: note("yes: its panels are drafts, not verdicts"), False: "no", None: NONE}
        lines += ["Panel model", f"  {model.message}"]
        lines += table(
            [
                ["spec", model.spec],
                ["draft model", draft[model.low_capability]],
                [
                    "panels",
                    f"{plural(panels.verdicts, 'verdict')} · {plural(panels.drafts, 'draft')}",
                ],
            ]
        )
        if model.error:
            lines.append(bad(f"  cannot be used: {model.error}"))

        lacking = f"{panels.lacking_panel} lack{'s' if panels.lacking_panel == 1 else ''} a panel"
        lines += ["", "Panels"]
        lines += table(
            [
                ["incomplete", f"{plural(panels.incomplete, 'tool')} ({lacking})"],
                ["failed seats", str(panels.failed_seats)],
                ["recused seats", str(panels.recused_seats)],
            ]
        )
        if panels.to_finish:
            lines.append(
                f"  {plural(panels.to_finish, 'panel')} to finish: shipwith review --incomplete"
            )

        queued = when(status.next_ingest_at, now) if status.next_ingest_at else "not queued"
        lines += ["", f"Sources (next ingest run: {queued})"]
        if status.sources:
            rows = [["name", "kind", "health", "last run", "last success", "next run"]]
            for source in status.sources:
                health = source.health
                if health == "failing":
                    health = f"failing ×{source.failures_in_row}"
                rows.append(
                    [
                        source.name,
                        source.kind,
                        health,
                        when(source.last_run_at, now, relative=False),
                        when(source.last_success_at, now, relative=False),
                        when(source.next_run_at, now, relative=False),
                    ]
                )
            for source, line in zip([None, *status.sources], table(rows), strict=True):
                if source is None or source.health not in ("failing", "ok"):
                    lines.append(line)
                    continue
                lines.append((bad if source.health == "failing" else good)(line))
                if source.health == "failing":
                    error = source.last_error.splitlines()[0] if source.last_error else ""
                    lines.append(f"    error {when(source.last_error_at, now)}: {error[:160]}")
        else:
            lines.append("  none: shipwith ingest sources add NAME --kind KIND")

        lines += ["", "Candidates waiting"]
        lines += table([[name, str(count)] for name, count in status.candidates.items()])

        tasks = status.tasks
        waiting = (
            f", oldest waiting {ago(now - tasks.oldest_due_at)}" if tasks.oldest_due_at else ""
        )
        lines += ["", "Tasks"]
        lines += table(
            [
                ["queued", f"{tasks.queued} ({tasks.due} due now{waiting})"],
                ["running", str(tasks.running)],
                ["failed 24 h", str(tasks.failed_recently)],
                ["succeeded 24 h", str(tasks.succeeded_recently)],
            ]
        )
        if tasks.recent_failures:
            lines += table(
                [
                    [when(failure.finished_at, now, relative=False), failure.task, failure.error]
                    for failure in tasks.recent_failures
                ],
                indent="    ",
            )

        letter = status.newsletter
        next_send = (
            when(letter.next_send_at, now)
            if letter.next_send_at
            else "not queued: shipwith newsletter schedule"
        )
        issue = letter.last_issue
        last = (
            f"{issue.slug}: {issue.sent} sent · {issue.pending} pending · {issue.failed} failed"
            if issue
            else NONE
        )
        lines += ["", "Newsletter"]
        lines += table([["next send", next_send], ["last issue", last]])

        lines.append("")
        if status.needs_attention:
            lines.append(bad("Needs attention"))
            lines += [bad(f"  ! {item}") for item in status.needs_attention]
        else:
            lines.append(good("All clear."))
        return lines


def _json(status: OperatorStatus) -> str:
    return json.dumps(dataclasses.asdict(status), cls=DjangoJSONEncoder, indent=2)
