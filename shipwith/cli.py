"""The `shipwith` console script: Django's management commands with our settings preset."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipwith.settings")
    from django.core.management import execute_from_command_line

    from shipwith.config import ConfigError  # lazy: reads .env, after the settings module is set

    try:
        execute_from_command_line(["shipwith", *(sys.argv[1:] if argv is None else argv)])
    except ConfigError as error:  # a setting we refuse: say which and how to fix, no traceback
        sys.exit(f"shipwith: {error}")
