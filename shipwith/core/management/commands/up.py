import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DatabaseError

from shipwith.catalog.services import catalog_load_starter
from shipwith.ingest.tasks import daily_schedule
from shipwith.web.services import comparisons_publish


class Terminated(Exception):
    """`up` was asked to stop (SIGTERM, e.g. by systemd or `docker stop`)."""


def _terminate(*_) -> None:
    raise Terminated


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
        self.stdout.write(f"Comparisons: {comparisons_publish()}")
        # The worker reads the ingest sources once a day; the run queues the next one.
        self.stdout.write(f"Daily ingest queued for {daily_schedule():%Y-%m-%d %H:%M} UTC.")
        if setup_only:
            return
        children = [self._spawn_worker(), self._spawn_server(bind, workers)]
        self.stdout.write(self.style.SUCCESS(f"shipwith is serving at http://{bind}/"))
        signal.signal(signal.SIGTERM, _terminate)  # so `finally` stops the children
        interrupted = None
        try:
            # Review in the foreground while the site is already browsable; reviews fill in.
            if not no_review:
                self._review()
            self._wait(children)
        except (KeyboardInterrupt, Terminated) as stop:
            interrupted = 130 if isinstance(stop, KeyboardInterrupt) else 0
            self.stdout.write("\nStopping: reviews done so far are kept; the next `up` resumes.")
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                child.wait(timeout=15)
        if interrupted is not None:
            # Every stored seat is committed. The embedded model may still be generating in a
            # thread: leave now rather than wait for it, or tear the model down under it (that
            # crashed inside llama.cpp). Ctrl-C exits 130; a stop request (SIGTERM) exits 0.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(interrupted)

    def _review(self) -> None:
        """Review tools lacking a panel, then finish incomplete panels; never stop serving."""
        from shipwith.panel.progress import panels_run_with_progress
        from shipwith.panel.selectors import runs_to_finish, tools_lacking_panel
        from shipwith.panel.tasks import seats_retry_later

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
            self.stdout.write(f"Comparisons: {comparisons_publish()}")
        except DatabaseError as exc:
            self.stderr.write(f"Reviewing stopped by a database error ({exc}); still serving.")
            self.stdout.write("Run `shipwith review --incomplete` to finish the panels.")

    def _spawn_worker(self) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "shipwith", "db_worker", "--interval", "1"])

    def _spawn_server(self, bind: str, workers: int) -> subprocess.Popen:
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
        return subprocess.Popen(command)

    def _wait(self, children: list[subprocess.Popen]) -> None:
        while all(child.poll() is None for child in children):
            try:
                children[1].wait(timeout=1)
            except subprocess.TimeoutExpired:
                continue
        failed = [c.args[2:4] for c in children if c.poll() not in (None, 0)]
        if failed:
            self.stderr.write(f"stopped: a child process exited ({failed})")
