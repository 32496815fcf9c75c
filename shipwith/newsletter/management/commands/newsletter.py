from django.core.management.base import BaseCommand, CommandError

from shipwith.newsletter import tasks
from shipwith.newsletter.issues import issue_compose, issue_counts
from shipwith.newsletter.models import Issue
from shipwith.newsletter.selectors import Week
from shipwith.newsletter.sending import issue_send


class Command(BaseCommand):
    help = "Compose, send and schedule the weekly digest (see shipwith/newsletter/README.md)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in [
            ("compose", "Freeze a week's issue (for the preview) without sending it."),
            ("send", "Compose if needed, then send to every confirmed subscriber; resumable."),
        ]:
            verb = sub.add_parser(name, help=text)
            verb.add_argument(
                "--week", help='ISO week, e.g. "2026-w47" (default: the last complete week).'
            )
        sub.add_parser("schedule", help="Queue the weekly send (Mondays 07:00 UTC) on the worker.")
        sub.add_parser("status", help="Deliveries of the latest issues by status.")

    def handle(self, *args, action: str, week: str | None = None, **options):
        if action == "schedule":
            when = tasks.weekly_schedule()
            self.stdout.write(f"The weekly send is queued for {when:%Y-%m-%d %H:%M} UTC.")
            return
        if action == "status":
            self._status()
            return
        try:
            chosen = Week.parse(week) if week else Week.last_complete()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        issue = issue_compose(week=chosen)
        if issue is None:
            self.stdout.write(f"Nothing new in {chosen.slug}: no issue.")
            return
        if action == "compose":
            self.stdout.write(
                f"Issue {issue.slug}: {issue.comparison_count} comparisons, "
                f"{issue.flip_count} verdict changes. Preview it in the admin."
            )
            return
        report = issue_send(
            issue_id=issue.pk,
            progress=lambda report: self.stderr.write(f"… {report.sent} sent"),
        )
        self.stdout.write(str(report))
        if report.aborted:
            raise CommandError(report.aborted)

    def _status(self) -> None:
        for issue in Issue.objects.all()[:5]:
            counts = issue_counts(issue_id=issue.pk)
            text = ", ".join(f"{status} {count}" for status, count in sorted(counts.items()))
            self.stdout.write(f"{issue.slug}: {text or 'not sent'}")
