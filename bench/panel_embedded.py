"""Embedded model: prompt processing for the four personas of one tool, with and without
reuse of the shared prefix (llama.cpp keeps the KV cache of the previous prompt when the same
Llama object is reused; `reset()` throws it away), and generation speed in tokens per second.

    .venv/bin/python bench/panel_embedded.py [--slug vllm] [--rounds 1]
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import panel_common  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slug", default="vllm")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=128)
    args = parser.parse_args()
    panel_common.django_with_scratch_db()

    from shipwith.catalog.models import Tool
    from shipwith.catalog.services import catalog_load_starter
    from shipwith.panel.asking import review_request
    from shipwith.panel.llm.embedded import EmbeddedModel, _grammar
    from shipwith.panel.models import Persona
    from shipwith.panel.schema import review_json_schema

    catalog_load_starter()
    tool = Tool.objects.get(slug=args.slug)
    model = EmbeddedModel()
    personas = list(Persona.objects.filter(active=True))
    request = review_request(tool, personas=personas, models=[model])  # fitted as the panel asks
    conversations = [
        [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.prompt(p)},
        ]
        for p in personas
    ]
    llama = model.llama()
    print(f"{model.model_id}, {model.n_threads} thread(s), tool {tool.name}")
    llama.create_chat_completion(messages=[{"role": "user", "content": "Hi"}], max_tokens=1)

    def prompt_seconds(messages) -> tuple[float, int]:
        started = time.perf_counter()
        result = llama.create_chat_completion(messages=messages, max_tokens=1, temperature=0)
        return time.perf_counter() - started, result["usage"]["prompt_tokens"]

    cold, warm = [], []
    for _ in range(args.rounds):
        total = 0.0
        for messages in conversations:
            llama.reset()  # forget the KV cache: every prompt is processed in full
            seconds, tokens = prompt_seconds(messages)
            total += seconds
        cold.append(total)
        llama.reset()  # a new tool: its first persona pays for the prefix, the others reuse it
        warm.append(sum(prompt_seconds(messages)[0] for messages in conversations))
    cold_s, warm_s = statistics.median(cold), statistics.median(warm)
    print(f"\nprompt tokens per persona : {tokens} (shared prefix + persona card)")
    print(f"four personas, no reuse   : {cold_s:6.2f} s prompt processing")
    print(f"four personas, reuse      : {warm_s:6.2f} s")
    print(f"ratio                     : {cold_s / warm_s:6.2f}x less (goal >= 3x)")

    for label, extra in [
        ("free text", {}),
        ("review grammar", {"grammar": _grammar(json.dumps(review_json_schema()))}),
    ]:
        prompt_seconds(conversations[0])  # prefix cached: the timing below is generation
        started = time.perf_counter()
        result = llama.create_chat_completion(
            messages=conversations[0],
            max_tokens=args.tokens,
            temperature=model.temperature,
            repeat_penalty=model.repeat_penalty,
            **extra,
        )
        seconds = time.perf_counter() - started
        generated = result["usage"]["completion_tokens"]
        print(f"generation, {label:<15}: {generated / seconds:6.1f} tokens/s ({generated} tokens)")


if __name__ == "__main__":
    main()
