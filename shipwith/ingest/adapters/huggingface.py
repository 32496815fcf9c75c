"""The Hugging Face Hub's model list: `GET /api/models?sort=createdAt&direction=-1&limit=N`.

Format looked up in huggingface_hub's `HfApi.list_models` and `ModelInfo` (hf_api.py): a JSON
list of `{"_id", "id", "likes", "trendingScore", "private", "downloads", "tags",
"pipeline_tag", "library_name", "createdAt", "modelId"}`, where the licence is a tag
"license:apache-2.0" and `createdAt` is ISO 8601. Most new repositories are one-off fine-tunes,
so minimum likes and downloads and the pipeline tags of interest filter them out by default.
"""

from collections.abc import Iterator

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


class HuggingFaceAdapter(Adapter):
    kind = "huggingface"
    default_url = "https://huggingface.co/api/models?sort=createdAt&direction=-1&limit=100"
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
        licence = n.licence_spdx(licences[0]) if licences else None
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
                release_date=created.date() if created else None,
                tags=[pipeline_tag] if pipeline_tag else [],
            ),
            category_hint=self.options.get("category") or "open-weight-models",
        )
