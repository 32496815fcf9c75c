"""Run every benchmark in turn (`make bench`); each prints its own ratios against a baseline.

    .venv/bin/python bench/run_all.py [--quick] [NAME ...]

--quick shrinks the sizes so the whole set runs in a few minutes (figures are then indicative
only; bench/README.md holds the full-size figures).
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent

# name: (full-size arguments, quick arguments)
SCRIPTS = {
    "panel_overhead": ([], ["--tools", "200", "--panels", "3"]),
    "panel_embedded": ([], ["--tokens", "64"]),
    "web_render": ([], ["--tools", "2000", "--runs", "15"]),
    "web_evidence": ([], ["--tools", "2000", "--runs", "10"]),
    "web_facts": ([], ["--tools", "2000", "--runs", "5"]),
    "web_throughput": ([], []),
    "web_cache_by_tool": ([], ["--tools", "80", "--rounds", "50"]),
    "votes_rating": ([], ["--votes", "200000", "--tools", "2000", "--rounds", "20"]),
    "votes_http": ([], ["--seconds", "4"]),
    "newsletter_send": ([], ["--sizes", "1000,3000"]),
    "ingest_pipeline": ([], ["--items", "2000", "--tools", "2000", "--runs", "1"]),
    "ingest_dedupe": ([], []),
    "ingest_fetch": ([], ["--items", "2000", "--requests", "100"]),
    "api_throughput": ([], ["--large", "2000"]),
    "time_to_verdict": ([], ["--every", "20s", "--items", "1"]),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(SCRIPTS))
    options = parser.parse_args()
    if unknown := set(options.names) - set(SCRIPTS):
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    failed = []
    for name in options.names or SCRIPTS:
        full, quick = SCRIPTS[name]
        command = [sys.executable, str(BENCH / f"{name}.py"), *(quick if options.quick else full)]
        print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
        started = time.perf_counter()
        if subprocess.run(command, cwd=BENCH.parent).returncode != 0:
            failed.append(name)
        print(f"=== {name} took {time.perf_counter() - started:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
