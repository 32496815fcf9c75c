"""OpenRouter's model list: `GET https://openrouter.ai/api/v1/models`.

Format looked up in OpenRouter's API reference ("List all models", the ModelsListResponse of
openrouter.ai/docs): `{"data": [{"id", "canonical_slug", "hugging_face_id", "name", "created"
(Unix seconds), "description", "context_length", "architecture": {"modality",
"input_modalities", "output_modalities", …}, "pricing": {"prompt", "completion", …} (USD per
token, as strings), "top_provider": {"context_length", "max_completion_tokens" (null when not
limited), "is_moderated"}, …}]}`. Names read "Vendor: Model".

Facts (catalog/facts.py keys): `pricing.prompt`/`completion` × 1,000,000 →
`input_price_per_mtok`/`output_price_per_mtok`; `context_length` → `context_window`;
`top_provider.max_completion_tokens` → `max_output_tokens`; `architecture.input_modalities`/
`output_modalities` → `input_modalities`/`output_modalities`; `created` → `release_date`;
a `hugging_face_id` → `open_weights`.
"""

from collections.abc import Iterator

from shipwith.ingest import normalise as n
from shipwith.ingest.adapters.base import Adapter
from shipwith.ingest.adapters.common import (
    json_records,
    options_check,
    required_text,
)
from shipwith.ingest.fetch import Fetched
from shipwith.ingest.items import Facts, Identifiers, Item, ItemProblem


class OpenRouterAdapter(Adapter):
    kind = "openrouter"
    default_url = "https://openrouter.ai/api/v1/models"
    options_known = {"category"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        options_check(self.options, self.options_known, self.kind)

    def items(self) -> Iterator[Item | ItemProblem]:
        return json_records(self, field="data", keys=("id",), build=self._item)

    def _item(self, record: dict, fetched: Fetched) -> Item:
        model_id = required_text(record, "id")
        vendor, _, name = required_text(record, "name").rpartition(": ")
        pricing = record.get("pricing") or {}
        if not isinstance(pricing, dict):
            raise ValueError(f"pricing {pricing!r} is not an object")
        architecture = record.get("architecture") or {}
        top_provider = record.get("top_provider") or {}
        if not isinstance(architecture, dict) or not isinstance(top_provider, dict):
            raise ValueError("architecture and top_provider must be objects")
        hugging_face_id = n.text(record.get("hugging_face_id"), field="hugging_face_id")
        created = n.when(record.get("created"), field="created")
        modality = architecture.get("modality")
        return Item(
            key=model_id,
            name=name.strip(),
            vendor=vendor.strip() or None,
            url=f"https://openrouter.ai/{model_id}",
            seen_at=created or fetched.fetched_at,
            identifiers=Identifiers(
                # The id ("openai/gpt-4o"), as the catalog keeps it: the canonical slug names
                # one dated snapshot ("openai/gpt-4o-2024-05-13") and changes when the id moves.
                openrouter=model_id,
                huggingface=hugging_face_id,
            ),
            facts=Facts(
                description=n.text(record.get("description"), field="description", required=True),
                release_date=n.fact("release_date", created, field="created"),
                # A Hugging Face id means the weights are published there.
                open_weights=True if hugging_face_id else None,
                licence_kind=n.licence_kind(None, weights=bool(hugging_face_id)),
                input_price_per_mtok=n.price_per_mtok(
                    pricing.get("prompt"), field="pricing.prompt", per_token=True
                ),
                output_price_per_mtok=n.price_per_mtok(
                    pricing.get("completion"), field="pricing.completion", per_token=True
                ),
                context_window=n.tokens(
                    record.get("context_length"), key="context_window", field="context_length"
                ),
                max_output_tokens=n.tokens(
                    top_provider.get("max_completion_tokens"),
                    key="max_output_tokens",
                    field="top_provider.max_completion_tokens",
                ),
                input_modalities=n.modalities(
                    architecture.get("input_modalities"),
                    key="input_modalities",
                    field="architecture.input_modalities",
                ),
                output_modalities=n.modalities(
                    architecture.get("output_modalities"),
                    key="output_modalities",
                    field="architecture.output_modalities",
                ),
                tags=[modality] if isinstance(modality, str) and modality else [],
            ),
            category_hint=self.options.get("category")
            or ("open-weight-models" if hugging_face_id else "hosted-models"),
        )
