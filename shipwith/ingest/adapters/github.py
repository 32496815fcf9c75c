"""A GitHub repository: `GET /repos/{owner}/{repo}` and `GET /repos/{owner}/{repo}/releases/latest`.

Format looked up in GitHub's REST API reference ("Get a repository": `name`, `full_name`,
`owner.login`, `html_url`, `description`, `homepage`, `topics`, `license.spdx_id` ("NOASSERTION"
when GitHub cannot tell), `created_at`, `archived`…; "Get the latest release": `tag_name`,
`name`, `html_url`, `published_at`, `draft`, `prerelease`; 404 when there is no release).
The source URL may be the repository page (`https://github.com/OWNER/REPO`) or an API URL
ending in `/repos/OWNER/REPO`. With SHIPWITH_GITHUB_TOKEN set, its requests carry
`Authorization: Bearer TOKEN` (5,000 requests an hour instead of 60): only these requests, and
only when the source's API host is one of SHIPWITH_GITHUB_TOKEN_HOSTS (api.github.com); the
Fetcher drops it on a redirect to another origin.

Facts (catalog/facts.py keys): `license.spdx_id` → `licence`; `stargazers_count` →
`github_stars`; the latest release's `tag_name` → `latest_release` and its `published_at` →
`latest_release_date` ("latest" is GitHub's: the newest release that is neither a draft nor a
prerelease).
"""

from collections.abc import Iterator
from urllib.parse import urlsplit

from django.conf import settings

from shipwith.ingest import normalise as n
from shipwith.ingest.adapters.base import Adapter, SourceFormatError
from shipwith.ingest.adapters.common import (
    guarded,
    json_body,
    options_check,
    record_dict,
    required_text,
)
from shipwith.ingest.fetch import Fetched, FetchError
from shipwith.ingest.items import Facts, Identifiers, Item, ItemProblem

API = "https://api.github.com"
HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


def api_url(url: str) -> str:
    """The repository's API URL from its page URL; an API URL is kept as it is."""
    parts = urlsplit(url)
    segments = [segment for segment in parts.path.split("/") if segment]
    if len(segments) >= 3 and segments[-3] == "repos":
        return url.rstrip("/")
    repo = n.github_repo(url)
    if repo is None:
        raise SourceFormatError(
            f"{url}: not a GitHub repository URL (https://github.com/OWNER/REPO)"
        )
    return f"{API}/repos/{repo}"


class GitHubAdapter(Adapter):
    kind = "github"
    options_known = {"category"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        options_check(self.options, self.options_known, self.kind)
        self.api = api_url(self.url)
        token = settings.SHIPWITH_GITHUB_TOKEN.strip()
        host = (urlsplit(self.api).hostname or "").lower()
        if token and host in settings.SHIPWITH_GITHUB_TOKEN_HOSTS:
            self.headers = {**HEADERS, "Authorization": f"Bearer {token}"}
        else:  # an editor's typo or a look-alike host never receives the token
            self.headers = HEADERS

    def items(self) -> Iterator[Item | ItemProblem]:
        repo = self.fetcher.get(self.api, expect="json", headers=self.headers)
        release = self._latest_release()
        if repo.not_modified and (release is None or release.not_modified):
            return
        if repo.not_modified:  # a new release of an unchanged repository: its facts are needed
            repo = self.fetcher.get(
                self.api, expect="json", headers=self.headers, conditional=False
            )
        record = json_body(repo)
        release_record = json_body(release) if release and not release.not_modified else None
        key = self.api.rsplit("/repos/", 1)[-1].lower()
        yield from guarded(key, lambda: self._item(record, release_record, repo))

    def _latest_release(self) -> Fetched | None:
        try:
            return self.fetcher.get(
                f"{self.api}/releases/latest", expect="json", headers=self.headers
            )
        except FetchError as exc:
            if exc.status == 404:  # no release published yet
                return None
            raise

    def _item(self, record: object, release: object | None, fetched: Fetched) -> Item:
        record = record_dict(record)
        full_name = required_text(record, "full_name")
        owner = record.get("owner")
        licence_record = record.get("license")
        spdx = licence_record.get("spdx_id") if isinstance(licence_record, dict) else licence_record
        licence = n.licence_spdx(spdx)
        topics = record.get("topics") or []
        if not isinstance(topics, list) or not all(isinstance(topic, str) for topic in topics):
            raise ValueError(f"topics {topics!r} is not a list of text")
        homepage = n.homepage_url(record.get("homepage"))
        html_url = n.homepage_url(record.get("html_url")) or f"https://github.com/{full_name}"
        tag = published = None
        seen_at = n.when(record.get("created_at"), field="created_at")
        if release is not None:
            release = record_dict(release)
            if not release.get("draft"):
                tag = n.fact("latest_release", required_text(release, "tag_name"), field="tag_name")
                published = n.when(release.get("published_at"), field="published_at")
                seen_at = published or seen_at
        return Item(
            key=full_name.lower(),
            name=required_text(record, "name"),
            vendor=owner.get("login") if isinstance(owner, dict) else None,
            url=html_url,
            seen_at=seen_at or fetched.fetched_at,
            identifiers=Identifiers(github=full_name.lower(), domain=n.homepage_domain(homepage)),
            facts=Facts(
                description=n.text(record.get("description"), field="description"),
                homepage=homepage or html_url,
                licence=licence,
                licence_kind=n.licence_kind(licence),
                github_stars=n.whole(record.get("stargazers_count"), field="stargazers_count"),
                latest_release=tag,
                latest_release_date=n.fact("latest_release_date", published, field="published_at"),
                tags=[topic for topic in topics if topic],
            ),
            release=tag,
            category_hint=self.options.get("category") or None,
        )
