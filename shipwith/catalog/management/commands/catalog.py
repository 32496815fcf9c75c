from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shipwith.catalog.files import CatalogError
from shipwith.catalog.services import catalog_export, catalog_import


class Command(BaseCommand):
    help = "Import or export the tool catalog as YAML (see docs/catalog-format.md)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        importer = sub.add_parser("import", help="Import a catalog file or folder (atomic).")
        importer.add_argument("path", type=Path)
        exporter = sub.add_parser("export", help="Export to PATH (file or folder) or stdout.")
        exporter.add_argument("path", type=Path, nargs="?")

    def handle(self, *args, action: str, path: Path | None, **options):
        if action == "import":
            try:
                report = catalog_import(path=path)
            except CatalogError as exc:
                raise CommandError(f"nothing was imported:\n{exc}") from None
            self.stdout.write(f"Imported {path}: {report}")
            return
        text = catalog_export(path=path)
        if path is None:
            self.stdout.write(text, ending="")
        else:
            self.stderr.write(f"Exported the catalog to {path}")
