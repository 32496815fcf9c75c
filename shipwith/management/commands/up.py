import os
import signal
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from shipwith.catalog.services import catalog_load_starter
from shipwith.comparisons.tasks import comparisons_publish_and_queue_reads
from shipwith.core.processes import STOP_DEADLINE, Children
from shipwith.ingest.defaults import sources_add_defaults
from shipwith.ingest.errors import IngestError
from shipwith.ingest.selectors import sources_due_now, sources_round
from shipwith.ingest.tasks import polling_schedule
from shipwith.newsletter.tasks import weekly_schedule
from shipwith.panel.llm.discover import model_auto_export
from shipwith.panel.progress import panels_run_with_progress
from shipwith.panel.selectors import runs_to_finish, tools_lacking_panel
from shipwith.panel.tasks import seats_retry_later


class Stopping(BaseException):
    """Ctrl-C or a stop request (SIGTERM); like KeyboardInterrupt, `except Exception` misses it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class StopHandler:
    """The first stop signal raises Stopping; a later one hurries the children's stop."""

    def __init__(self, children: Children) -> None:
        self.children = children
        self.signum: int | None = None

    def __call__(self, signum: int, _frame) -> None:
        if self.signum is not None:  # asked again: no more waiting
            self.children.hurry()
            return
        self.signum = signum
        if not self.children.stopping:  # already stopping (`up` failed): carry on
            raise Stopping(signum)


class Command(BaseCommand):
    help = (
        "Run shipwith: migrate, load the starter catalog into an empty database, "
        "start a task worker and serve the site."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("SHIPWITH_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("SHIPWITH_WEB_WORKERS", "3"))
        )
        parser.add_argument(
            "--setup-only", action="store_true", help="Prepare the database, then exit."
        )
        parser.add_argument(
            "--no-review", action="store_true", help="Do not review tools that lack a panel."
        )

    def handle(
        self, *args, bind: str, workers: int, setup_only: bool, no_review: bool = False, **options
    ):
        self.stdout.write("Preparing the database…")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if report := catalog_load_starter():
            self.stdout.write(f"Loaded the starter catalog: {report}")
        self.stdout.write(f"Comparisons: {comparisons_publish_and_queue_reads()}")
        ingest_waiting = self._ingest(setup_only)
        when = weekly_schedule()
        self.stdout.write(
            f"Newsletter: the weekly issue goes to confirmed subscribers {when:%a %d %b %H:%M} UTC "
            f"(SMTP {settings.EMAIL_HOST}:{settings.EMAIL_PORT})."
        )
        if setup_only:
            return
        # Settled before the children start: they inherit the choice and never probe again.
        self.stdout.write(model_auto_export().message)
        children = Children()
        stop = StopHandler(children)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            self._spawn_worker(children)
            self._spawn_server(children, bind, workers)
            self.stdout.write(self.style.SUCCESS(f"shipwith is serving at http://{bind}/"))
            # Review in the foreground while the site is already browsable; reviews fill in.
            if not no_review:
                self._review()
            self._wait(children, ingest_waiting)
        except Stopping:
            self.stdout.write("\nStopping: reviews done so far are kept; the next `up` resumes.")
        finally:  # whatever ends `up`, even a bug of its own, no child outlives it
            for child in children.stop():
                self.stderr.write(f"killed {child.args[2:4]}: running after {STOP_DEADLINE:g} s")
        if stop.signum is not None:
            # Every stored seat is committed. The embedded model may still be generating in a
            # thread: leave now rather than wait for it, or tear the model down under it (that
            # crashed inside llama.cpp). Ctrl-C exits 130; a stop request (SIGTERM) exits 0.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130 if stop.signum == signal.SIGINT else 0)

    def _ingest(self, setup_only: bool) -> dict:
        """Add the default sources to a database with none, queue the polling (the worker
        reads every due source and refreshes the tools' pages at once); return the sources
        due now, whose runs `_wait` reports in one line."""
        try:
            if report := sources_add_defaults():
                self.stdout.write(f"Ingest: {report}.")
        except IngestError as exc:
            raise CommandError(str(exc)) from None
        if not polling_schedule():
            self.stdout.write(
                "Ingest: polling is off (SHIPWITH_INGEST_POLL=0): `shipwith ingest run` and "
                "`shipwith ingest refresh` read the sources and pages."
            )
            return {}
        due = sources_due_now()
        if setup_only:
            self.stdout.write(
                f"Ingest: {len(due)} sources and the tools' pages queued for the worker "
                "(nothing fetched now)."
            )
        else:
            self.stdout.write(
                f"Ingest: the worker reads {len(due)} sources and refreshes the tools' pages "
                "now, then polls each source on its own interval."
            )
        return due

    def _ingest_round(self, waiting: dict) -> bool:
        """Print how the first runs went once they all ran; True when it has."""
        try:
            line = sources_round(waiting)
        except DatabaseError:
            return False  # a busy database: ask again in a moment
        if line:
            self.stdout.write(line)
        return line is not None

    def _review(self) -> None:
        """Review tools lacking a panel, then finish incomplete panels; never stop serving."""
        try:
            missing = tools_lacking_panel()
            unfinished = runs_to_finish(exclude_tools=missing)
            if not (missing or unfinished):
                return
            if missing:
                self.stdout.write(f"Reviewing {len(missing)} tools that lack a panel…")
            if unfinished:
                self.stdout.write(f"Finishing {len(unfinished)} incomplete panels…")
            runs = panels_run_with_progress(
                tool_ids=missing, run_ids=unfinished, write=self.stdout.write
            )
            # The worker beside us tries failed seats again, with backoff, while we serve.
            for run in runs:
                seats_retry_later(run.pk)
            # Panels are complete now: queue the moderator's reads of published pairs.
            self.stdout.write(f"Comparisons: {comparisons_publish_and_queue_reads()}")
        except DatabaseError as exc:
            self.stderr.write(f"Reviewing stopped by a database error ({exc}); still serving.")
            self.stdout.write("Run `shipwith review --incomplete` to finish the panels.")

    def _spawn_worker(self, children: Children) -> None:
        # Its own defaults: it reads the queue every 0.2 s and wakes for work due later.
        children.start([sys.executable, "-m", "shipwith", "worker"])

    def _spawn_server(self, children: Children, bind: str, workers: int) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "shipwith.wsgi",
            # Server tuning (worker class, threads, keep-alive) lives in one module.
            "--config",
            "python:shipwith.web.gunicorn_conf",
            "--bind",
            bind,
            "--workers",
            str(workers),
            "--access-logfile",
            "-" if settings.DEBUG else "/dev/null",
        ]
        children.start(command)

    def _wait(self, children: Children, ingest_waiting: dict) -> None:
        while len(children.alive()) == len(children.processes):
            if ingest_waiting and self._ingest_round(ingest_waiting):
                ingest_waiting = {}
            time.sleep(1)
        failed = [c.args[2:4] for c in children.processes if c.poll() not in (None, 0)]
        if failed:
            self.stderr.write(f"stopped: a child process exited ({failed})")
