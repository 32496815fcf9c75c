from django.core.management.base import BaseCommand, CommandError

from shipwith.comparisons.services import PEERS
from shipwith.comparisons.tasks import comparisons_publish_and_queue_reads


class Command(BaseCommand):
    help = "Publish comparisons: every tool's nearest peers in its category by text similarity."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["publish"])
        parser.add_argument(
            "--peers", type=int, default=PEERS, help="Nearest peers per tool (default %(default)s)."
        )

    def handle(self, *args, action: str, peers: int, **options):
        if peers < 1:
            raise CommandError("--peers must be at least 1")
        report = comparisons_publish_and_queue_reads(peers=peers)
        self.stdout.write(str(report))
