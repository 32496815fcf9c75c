from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shipwith.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Put a backup written by `shipwith backup` into this site's database, which must be "
        "empty (no table at all; there is no override), migrate it to the current schema and "
        "print its counts. Stop the site first."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The backup file to restore.")

    def handle(self, *args, path: Path, **options):
        try:
            restored = backup_restore(path=path)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(restored.line)
