"""The `shipwith` console script: Django's management commands with our settings preset."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipwith.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["shipwith", *(sys.argv[1:] if argv is None else argv)])
