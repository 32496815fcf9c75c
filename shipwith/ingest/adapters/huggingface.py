"""The Hugging Face Hub's model list: `GET /api/models?sort=createdAt&direction=-1&limit=N`.

Format looked up in huggingface_hub's `HfApi.list_models` and `ModelInfo` (hf_api.py): a JSON
list of `{"_id", "id", "likes", "trendingScore", "private", "downloads", "tags",
"pipeline_tag", "library_name", "createdAt", "modelId"}`, where the licence is a tag
"license:apache-2.0" and `createdAt` is ISO 8601. `expand=PROPERTY` (repeated; one of
`ExpandModelProperty_T`) asks for exactly the properties named, among them `safetensors`
(`{"parameters": {DTYPE: count}, "total": count}`) and `cardData` (the model card's metadata:
`license`, `license_name`…); the default URL asks for the ones read here. `downloads` counts the
last 30 days. Most new repositories are one-off fine-tunes, so minimum likes and downloads and
the pipeline tags of interest filter them out by default.

Facts (catalog/facts.py keys): the `license:` tag, else `cardData.license` → `licence`;
`downloads` → `hf_downloads`; `safetensors.total` → `parameters` (in billions); `createdAt` →
`release_date` (unless it is the Hub's earliest date); `open_weights` is true (the weights are
on the Hub).
"""

from collections.abc import Iterator
from datetime import UTC, datetime

from shipwith.ingest import normalise as n
from shipwith.ingest.adapters.base import Adapter
from shipwith.ingest.adapters.common import (
    json_records,
    option_int,
    option_list,
    options_check,
    required_text,
)
from shipwith.ingest.fetch import Fetched
from shipwith.ingest.items import Facts, Identifiers, Item, ItemProblem

PIPELINE_TAGS = [
    "text-generation",
    "image-text-to-text",
    "any-to-any",
    "feature-extraction",
    "sentence-similarity",
    "text-to-image",
    "automatic-speech-recognition",
    "text-to-speech",
]


# "The lowest value is 2022-03-02T23:29:04.000Z, corresponding to the date when we began to
# store creation dates" (ModelInfo.created_at): a repository that old has no release date.
UNDATED = datetime(2022, 3, 2, 23, 29, 4, tzinfo=UTC)
# The properties the default URL asks for (with `expand`, the Hub gives only those named).
EXPAND = [
    "author", "cardData", "createdAt", "downloads", "likes", "pipeline_tag", "safetensors",
    "tags",
]  # fmt: skip


class HuggingFaceAdapter(Adapter):
    kind = "huggingface"
    default_url = (
        "https://huggingface.co/api/models?sort=createdAt&direction=-1&limit=100"
        + "".join(f"&expand={name}" for name in EXPAND)
    )
    options_known = {"min_likes", "min_downloads", "pipeline_tags", "category"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        options_check(self.options, self.options_known, self.kind)
        self.min_likes = option_int(self.options, "min_likes", 10)
        self.min_downloads = option_int(self.options, "min_downloads", 100)
        self.pipeline_tags = set(option_list(self.options, "pipeline_tags", PIPELINE_TAGS))

    def items(self) -> Iterator[Item | ItemProblem]:
        return json_records(self, field=None, keys=("id", "modelId"), build=self._item)

    def _item(self, record: dict, fetched: Fetched) -> Item | None:
        model_id = required_text(record, "id")
        likes = n.whole(record.get("likes"), field="likes", default=0)
        downloads = n.whole(record.get("downloads"), field="downloads", default=0)
        pipeline_tag = n.text(record.get("pipeline_tag"), field="pipeline_tag")
        if likes < self.min_likes or downloads < self.min_downloads:
            return None
        if self.pipeline_tags and pipeline_tag not in self.pipeline_tags:
            return None
        tags = record.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise ValueError(f"tags {tags!r} is not a list of text")
        licences = [tag for tag in tags if tag.startswith("license:")]
        card = record.get("cardData") or {}
        safetensors = record.get("safetensors") or {}
        if not isinstance(card, dict) or not isinstance(safetensors, dict):
            raise ValueError("cardData and safetensors must be objects")
        licence = n.licence_spdx(licences[0]) if licences else _card_licence(card)
        created = n.when(record.get("createdAt"), field="createdAt")
        owner, _, name = model_id.rpartition("/")
        author = n.text(record.get("author"), field="author") or owner or None
        return Item(
            key=model_id,
            name=name,
            vendor=author,
            url=f"https://huggingface.co/{model_id}",
            seen_at=created or fetched.fetched_at,
            identifiers=Identifiers(huggingface=model_id),
            facts=Facts(
                licence=licence,
                licence_kind="open_weights",
                open_weights=True,
                release_date=n.fact("release_date", created, field="createdAt")
                if created and created > UNDATED
                else None,
                hf_downloads=downloads if record.get("downloads") is not None else None,
                parameters=n.billions(safetensors.get("total"), field="safetensors.total"),
                tags=[pipeline_tag] if pipeline_tag else [],
            ),
            category_hint=self.options.get("category") or "open-weight-models",
        )


def _card_licence(card: dict) -> str | None:
    """The model card's `license` ("apache-2.0"; a list on some cards: one licence only)."""
    licence = card.get("license")
    if isinstance(licence, list):
        licence = licence[0] if len(licence) == 1 else None
    return n.licence_spdx(licence)
