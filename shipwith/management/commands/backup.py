from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shipwith.backups import BackupError, backup_write


class Command(BaseCommand):
    help = (
        "Write a consistent copy of the database to PATH while the site serves (SQLite: the "
        "online backup API; PostgreSQL: pg_dump's custom format), then print its size, tables "
        "and counts on one line. PATH is written whole or not at all."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The backup file to write.")
        parser.add_argument("--force", action="store_true", help="Replace PATH if it exists.")

    def handle(self, *args, path: Path, force: bool, **options):
        try:
            written = backup_write(path=path, force=force)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(written.line)
