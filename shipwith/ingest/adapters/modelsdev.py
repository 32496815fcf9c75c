"""models.dev's catalog: `GET https://models.dev/api.json`.

Format looked up in the models.dev repository (sst/models.dev, now anomalyco/models.dev:
packages/core/src/schema.ts and the web build that writes `dist/api.json` from `Providers`):
an object keyed by provider id, each `{"id", "name", "env", "npm", "api"?, "doc", "models":
{MODEL_ID: {"id", "name", "family"?, "release_date" ("YYYY-MM" or "YYYY-MM-DD"),
"last_updated", "open_weights" (bool), "license"?, "cost": {"input", "output", "cache_read"?…}
(USD per 1M tokens, numbers), "limit": {"context", "output"} (tokens, at least 0), "modalities":
{"input", "output"} (lists of "text", "audio", "image", "video", "pdf"), …}}}`. Providers resell
each other's models, so by default only the labs' own providers are read (option `providers`,
comma-separated ids).

Facts (catalog/facts.py keys): `cost.input`/`output` → `input_price_per_mtok`/
`output_price_per_mtok` (already per 1M tokens); `limit.context` → `context_window`,
`limit.output` → `max_output_tokens` (0: not given); `modalities.input`/`output` →
`input_modalities`/`output_modalities`; `open_weights`; `release_date`; `license` → `licence`.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, time

from shipwith.ingest import normalise as n
from shipwith.ingest.adapters.base import Adapter, SourceFormatError
from shipwith.ingest.adapters.common import (
    guarded,
    json_body,
    option_list,
    options_check,
    record_dict,
    required_text,
)
from shipwith.ingest.fetch import Fetched
from shipwith.ingest.items import Facts, Identifiers, Item, ItemProblem

PROVIDERS = [
    "openai", "anthropic", "google", "mistral", "deepseek", "xai", "cohere", "moonshotai",
    "minimax", "zai", "alibaba", "perplexity", "llama",
]  # fmt: skip


class ModelsDevAdapter(Adapter):
    kind = "modelsdev"
    default_url = "https://models.dev/api.json"
    options_known = {"providers", "category"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        options_check(self.options, self.options_known, self.kind)
        self.providers = option_list(self.options, "providers", PROVIDERS)

    def items(self) -> Iterator[Item | ItemProblem]:
        fetched = self.fetcher.get(self.url, expect="json")
        if fetched.not_modified:
            return
        document = json_body(fetched)
        if not isinstance(document, dict):
            raise SourceFormatError(f"{self.url}: expected an object of providers")
        for provider_id in self.providers or list(document):
            provider = document.get(provider_id)
            if provider is None:
                continue
            if not isinstance(provider, dict) or not isinstance(provider.get("models"), dict):
                yield ItemProblem(key=provider_id, message='provider has no "models" object')
                continue
            vendor = provider.get("name") if isinstance(provider.get("name"), str) else None
            for model_id, record in provider["models"].items():
                key = f"{provider_id}/{model_id}"
                yield from guarded(
                    key,
                    lambda key=key, record=record, vendor=vendor: self._item(
                        key, vendor, record, fetched
                    ),
                )

    def _item(self, key: str, vendor: str | None, record: object, fetched: Fetched) -> Item:
        record = record_dict(record)
        name = required_text(record, "name")
        open_weights = record.get("open_weights")
        if open_weights is not None and not isinstance(open_weights, bool):
            raise ValueError(f"open_weights {open_weights!r} is not true or false")
        cost = record.get("cost") or {}
        limit = record.get("limit") or {}
        modalities = record.get("modalities") or {}
        if not all(isinstance(part, dict) for part in (cost, limit, modalities)):
            raise ValueError("cost, limit and modalities must be objects")
        released = n.fact(
            "release_date",
            n.day(record.get("release_date"), field="release_date"),
            field="release_date",
        )
        licence = n.licence_spdx(record.get("license"))
        kind = (
            "open_weights" if open_weights else ("proprietary" if open_weights is False else None)
        )
        provider_id = key.partition("/")[0]
        return Item(
            key=key,
            name=name,
            vendor=vendor,
            url=f"https://models.dev/providers/{provider_id}",
            seen_at=datetime.combine(released, time(), UTC) if released else fetched.fetched_at,
            identifiers=Identifiers(),
            facts=Facts(
                release_date=released,
                open_weights=open_weights,
                licence=licence,
                licence_kind=kind,
                input_price_per_mtok=n.price_per_mtok(
                    cost.get("input"), field="cost.input", per_token=False
                ),
                output_price_per_mtok=n.price_per_mtok(
                    cost.get("output"), field="cost.output", per_token=False
                ),
                context_window=n.tokens(
                    limit.get("context"), key="context_window", field="limit.context"
                ),
                max_output_tokens=n.tokens(
                    limit.get("output"), key="max_output_tokens", field="limit.output"
                ),
                input_modalities=n.modalities(
                    modalities.get("input"), key="input_modalities", field="modalities.input"
                ),
                output_modalities=n.modalities(
                    modalities.get("output"), key="output_modalities", field="modalities.output"
                ),
                tags=[record["family"]] if isinstance(record.get("family"), str) else [],
            ),
            category_hint=self.options.get("category")
            or ("open-weight-models" if open_weights else "hosted-models"),
        )
