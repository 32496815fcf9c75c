"""One process recording facts: `python -m tests.catalog.facts_writer TOOL_ID START_AT`.

It waits until START_AT (Unix time) so that several writers start together, records the same
reading every writer records in a transaction it holds a moment longer (as a writer doing
more work would), and prints as JSON the keys it changed, when it started and when it was done.
"""

import datetime as dt
import json
import sys
import time

import django

READ_AT = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
HOLD = 0.5  # seconds the transaction stays open after recording
SOURCE = "https://openrouter.ai/openai/gpt-4o"
VALUES = {
    "input_price_per_mtok": "2.5",
    "output_price_per_mtok": "10",
    "context_window": 128000,
    "max_output_tokens": 16384,
    "input_modalities": ["text", "image"],
}


def main(tool_id: int, start_at: float) -> None:
    django.setup()
    from django.db import transaction

    from shipwith.catalog.readings import facts_record

    time.sleep(max(0.0, start_at - time.time()))
    started = time.time()
    with transaction.atomic():
        changed = facts_record(
            tool_id=tool_id, source_url=SOURCE, source_title="OpenRouter", read_at=READ_AT,
            values=VALUES,
        )  # fmt: skip
        time.sleep(HOLD)
    done = {"changed": [c.key for c in changed], "started": started, "done": time.time()}
    print(json.dumps(done))


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]))
