"""Dedupe quality: precision and recall of the name matcher on a labelled set of pairs.

    .venv/bin/python bench/ingest_dedupe.py [--show-errors]

bench/ingest_dedupe_pairs.csv holds pairs of real tool names as different sources spell them
(catalog, OpenRouter "Vendor: Name", Hugging Face "org/Repo-Name", GitHub "owner/repo", PyPI
names) labelled same (1) or different (0); the different ones are near misses: other sizes,
versions, variants, siblings from the same vendor, look-alike names. Only names and vendors
are given (no identifiers), so this measures the hardest pass. The baseline in the same run is
plain rapidfuzz token_sort_ratio ≥ 90 on names with punctuation and case removed (rapidfuzz's
default_process), what one would write first.
Goal: precision ≥ 0.98, recall ≥ 0.9.
"""

import argparse
import csv
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rapidfuzz import fuzz, utils  # noqa: E402

from shipwith.ingest.dedupe import Entry, Index  # noqa: E402

PAIRS = Path(__file__).with_name("ingest_dedupe_pairs.csv")


def ours(row: dict) -> bool:
    index = Index([Entry(("tool", 1), [row["name_a"]], [row["vendor_a"]])])
    return index.match(name=row["name_b"], vendor=row["vendor_b"] or None) is not None


def baseline(row: dict) -> bool:
    similarity = fuzz.token_sort_ratio(
        row["name_a"], row["name_b"], processor=utils.default_process
    )
    return similarity >= 90


def score(rows: list[dict], predict) -> tuple[float, float, list[dict]]:
    tp = fp = fn = 0
    errors = []
    for row in rows:
        same, said = row["same"] == "1", predict(row)
        tp += same and said
        fp += said and not same
        fn += same and not said
        if same != said:
            errors.append(row)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show-errors", action="store_true")
    options = parser.parse_args()
    rows = list(csv.DictReader(PAIRS.open(encoding="utf-8")))
    positives = sum(row["same"] == "1" for row in rows)
    print(f"{len(rows)} labelled pairs: {positives} same tool, {len(rows) - positives} near misses")
    for label, predict in [
        ("token_sort_ratio >= 90 (baseline)", baseline),
        ("shipwith dedupe", ours),
    ]:
        started = time.perf_counter()
        precision, recall, errors = score(rows, predict)
        elapsed = (time.perf_counter() - started) * 1000
        print(
            f"{label:36} precision {precision:.3f}  recall {recall:.3f}  "
            f"({len(errors)} wrong, {elapsed:.0f} ms)"
        )
        if options.show_errors and predict is ours:
            for row in errors:
                verdict = "missed" if row["same"] == "1" else "merged"
                print(f"  {verdict}: {row['name_a']!r} / {row['name_b']!r}  {row['note']}")
    print("goal: precision >= 0.98, recall >= 0.9")


if __name__ == "__main__":
    main()
