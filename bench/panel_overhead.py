"""Orchestration overhead and parallelism of a panel run, against a fake server on loopback.

1. Zero-latency server: panels per second for N tools through `panel_run` (validation, quote
   checks, versioning, run and seat records) beside a naive sequential loop in the same run
   (one blocking SDK call per persona, json.loads, one INSERT). Overhead per panel in ms.
2. 500 ms of latency per call: one panel's wall time ÷ one call's latency (goal ≤ 1.2: the
   four personas run at once).

    .venv/bin/python bench/panel_overhead.py [--tools 1000] [--latency 0.5]
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import panel_common  # noqa: E402


def naive_loop(tool_ids: list[int], base_url: str) -> float:
    """The baseline: what a first script would do, with none of our guarantees."""
    import openai

    from shipwith.panel.models import Persona, Review

    client = openai.OpenAI(base_url=base_url, api_key="x", max_retries=0)
    personas = list(Persona.objects.filter(active=True))
    started = time.perf_counter()
    for tool_id in tool_ids:
        for persona in personas:
            response = client.chat.completions.create(
                model="fake",
                messages=[
                    {"role": "system", "content": "Review this tool as JSON."},
                    {"role": "user", "content": f"Tool {tool_id}, as the {persona.name}."},
                ],
                max_tokens=700,
            )
            data = json.loads(response.choices[0].message.content)
            Review.objects.create(
                tool_id=tool_id,
                persona=persona,
                version=1,
                verdict=data["verdict"],
                take=data["take"],
                confidence=data["confidence"],
                prompt_version=1,
                model_id="fake",
                provider="openai",
            )
    client.close()
    return time.perf_counter() - started


def ours(tool_ids: list[int]) -> float:
    from shipwith.panel.models import PanelRun, RunStatus
    from shipwith.panel.runs import panel_run

    started = time.perf_counter()
    for tool_id in tool_ids:
        panel_run(tool_id=tool_id, model_spec="openai:fake")
    elapsed = time.perf_counter() - started
    complete = PanelRun.objects.filter(tool_id__in=tool_ids, status=RunStatus.COMPLETE).count()
    assert complete == len(tool_ids), f"only {complete} of {len(tool_ids)} panels complete"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--panels", type=int, default=5, help="panels timed with latency")
    args = parser.parse_args()

    home = panel_common.django_with_scratch_db()
    print(f"scratch database in {home}; {os.cpu_count()} cores")

    server, base_url = panel_common.start_server(0.0)
    os.environ["OPENAI_BASE_URL"] = base_url
    try:
        baseline_ids = panel_common.make_tools(args.tools, "naive")
        our_ids = panel_common.make_tools(args.tools, "ours")
        naive_s = naive_loop(baseline_ids, base_url)
        ours_s = ours(our_ids)
    finally:
        server.kill()
    n = args.tools
    print(f"\n1. zero-latency server, {n} tools x 4 personas")
    print(f"   naive sequential loop : {n / naive_s:8.1f} panels/s ({naive_s:.1f} s)")
    print(f"   panel_run             : {n / ours_s:8.1f} panels/s ({ours_s:.1f} s)")
    print(f"   ratio (ours / naive)  : {naive_s / ours_s:8.2f}x throughput")
    print(f"   overhead per panel    : {(ours_s - naive_s) / n * 1000:8.1f} ms")
    print(f"   time per panel (ours) : {ours_s / n * 1000:8.1f} ms")

    server, base_url = panel_common.start_server(args.latency)
    os.environ["OPENAI_BASE_URL"] = base_url
    try:
        ids = panel_common.make_tools(args.panels, "latency")
        walls = []
        for tool_id in ids:
            started = time.perf_counter()
            ours([tool_id])
            walls.append(time.perf_counter() - started)
    finally:
        server.kill()
    wall = statistics.median(walls)
    print(f"\n2. {args.latency * 1000:.0f} ms per call, {args.panels} panels of 4 personas")
    print(f"   one panel's wall time : {wall * 1000:8.0f} ms (median)")
    print(f"   sequential would take : {4 * args.latency * 1000:8.0f} ms")
    print(f"   wall / one call       : {wall / args.latency:8.2f} (goal <= 1.2)")


if __name__ == "__main__":
    main()
