"""Any RSS or Atom feed, parsed with feedparser from the bytes the Fetcher got.

Format: feedparser's normalised entries (feedparser.readthedocs.io, "Common RSS/Atom
elements": `feed.title`, `feed.link`, `entries[].id`, `.title`, `.link`, `.summary`,
`.published_parsed` / `.updated_parsed`). Two feeds are release feeds and read as such:
a GitHub `releases.atom` (feed link `https://github.com/OWNER/REPO/releases`, entries titled
by tag, e.g. "v0.14.0") and a PyPI project feed (`https://pypi.org/rss/project/NAME/releases.xml`,
channel link `https://pypi.org/project/NAME/`, items titled by version). Their entries are
releases of that one project — `Item.release` set, the project's name and identifiers — never
tools called "v0.14.0". The option `project=NAME` reads any feed (a changelog) the same way.

Facts (catalog/facts.py keys), of a release feed only: its newest entry's tag (or title) →
`latest_release`, and that entry's date (`published`, else `updated`: GitHub's Atom gives only
`updated`) → `latest_release_date`, read from the feed's page (its `link`, e.g.
`https://github.com/OWNER/REPO/releases`) whichever entry carries them. The newest entry that
is not a pre-release: GitHub's feed does not mark them (its API's `prerelease` flag is not in
the Atom), so a tag that reads as one ("v0.15.0rc1", "2.0.0-beta.2", "v1.4.0.dev3",
"nightly-…") is passed over, as GitHub's own "Latest" badge passes it over; a feed of
pre-releases only gives its newest.
"""

import calendar
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit
from xml.sax import SAXParseException

import feedparser

from shipwith.ingest import normalise as n
from shipwith.ingest.adapters.base import Adapter, SourceFormatError
from shipwith.ingest.adapters.common import guarded, option_text, options_check
from shipwith.ingest.fetch import Fetched
from shipwith.ingest.items import Facts, Identifiers, Item, ItemProblem

# Problems feedparser reports that leave the feed readable.
BENIGN = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
MAX_SUMMARY = 2_000


class FeedAdapter(Adapter):
    kind = "feed"
    options_known = {"project", "category"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        options_check(self.options, self.options_known, self.kind)
        self.project = option_text(self.options, "project")
        if not self.url:
            raise SourceFormatError("feed sources need the URL of an RSS or Atom feed")

    def items(self) -> Iterator[Item | ItemProblem]:
        fetched = self.fetcher.get(self.url, expect="feed")
        if fetched.not_modified:
            return
        parsed = feedparser.parse(
            # A stream, never bytes or a str: feedparser first tries to open() those, so a body
            # of b"/etc/passwd" would be read from this machine's disk (b"/dev/zero" for ever).
            io.BytesIO(fetched.body),
            response_headers={"content-location": fetched.final_url},
            # Every text is reduced to plain text (nh3) below, so feedparser's own HTML
            # sanitiser and link rewriting would be work thrown away.
            sanitize_html=False,
            resolve_relative_uris=False,
        )
        problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
        if problem is not None and not isinstance(problem, BENIGN):
            if isinstance(problem, SAXParseException):
                where = f"line {problem.getLineNumber()}, column {problem.getColumnNumber()}"
                raise SourceFormatError(
                    f"{self.url}: malformed feed at {where}: {problem.getMessage()}"
                )
            raise SourceFormatError(f"{self.url}: malformed feed: {problem}")
        if parsed.get("version", "") == "" and not parsed.entries:
            raise SourceFormatError(f"{self.url}: not an RSS or Atom feed")
        project = self._project(parsed.feed)
        newest = _newest(parsed.entries) if project is not None else None
        for index, entry in enumerate(parsed.entries):
            key = entry.get("id") or entry.get("link") or f"#{index}"
            latest = index == newest
            yield from guarded(
                key,
                lambda entry=entry, key=key, latest=latest: self._item(
                    entry, key, project, fetched, latest=latest
                ),
            )

    def _project(self, feed) -> dict | None:
        """The one project a release feed is about: its name, identifiers and page."""
        link = feed.get("link") or ""
        if not link and self._project_url(self.url):
            link = self._project_url(self.url)
        parts = urlsplit(link)
        host = (parts.hostname or "").lower()
        segments = [segment for segment in parts.path.split("/") if segment]
        # Where its facts are read: the feed's page, the same for every entry and every read.
        page = n.web_url(link) or self.url
        if self.project:
            repo = n.github_repo(link) if host == "github.com" else None
            return {"name": self.project, "github": repo, "url": link or self.url, "page": page}
        if host == "github.com" and len(segments) >= 3 and segments[2] == "releases":
            repo = n.github_repo(link)
            url = f"https://github.com/{repo}"
            return {"name": segments[1], "github": repo, "url": url, "page": page}
        if host == "pypi.org" and len(segments) >= 2 and segments[0] == "project":
            return {"name": segments[1], "github": None, "url": link, "page": page}
        return None

    @staticmethod
    def _project_url(feed_url: str) -> str:
        """The project page a release feed's own URL names, when the feed itself does not."""
        parts = urlsplit(feed_url)
        segments = [segment for segment in parts.path.split("/") if segment]
        host = (parts.hostname or "").lower()
        if host == "github.com" and len(segments) == 3 and segments[2] == "releases.atom":
            return f"https://github.com/{segments[0]}/{segments[1]}/releases"
        if host == "pypi.org" and len(segments) == 4 and segments[:2] == ["rss", "project"]:
            return f"https://pypi.org/project/{segments[2]}/"
        return ""

    def _item(
        self, entry, key: str, project: dict | None, fetched: Fetched, *, latest: bool = False
    ) -> Item:
        title = n.text(entry.get("title"), field="title")
        if not title:
            raise ValueError("entry has no title")
        link = n.homepage_url(entry.get("link"))
        summary = n.text(entry.get("summary"), field="summary")
        if summary and len(summary) > MAX_SUMMARY:
            summary = summary[: MAX_SUMMARY - 1].rstrip() + "…"
        dated = _moment(entry)
        seen_at = dated or fetched.fetched_at
        category = self.options.get("category") or None
        if project is not None:
            release = _tag(link) or title
            return Item(
                key=key,
                name=project["name"],
                url=link or project["url"],
                facts_url=project["page"],
                seen_at=seen_at,
                identifiers=Identifiers(github=project["github"]),
                facts=Facts(
                    homepage=f"https://github.com/{project['github']}"
                    if project["github"]
                    else None,
                    latest_release=n.fact("latest_release", release, field="title")
                    if latest
                    else None,
                    latest_release_date=n.fact("latest_release_date", dated, field="updated")
                    if latest
                    else None,
                ),
                release=release,
                category_hint=category,
            )
        # A post's link is not the tool's homepage (every post of a blog shares its domain), so
        # it gives no identifiers beyond a GitHub repository it points at.
        return Item(
            key=key,
            name=title,
            url=link or self.url,
            seen_at=seen_at,
            identifiers=Identifiers(github=n.github_repo(link)),
            facts=Facts(description=summary),
            category_hint=category,
        )


def _moment(entry) -> datetime | None:
    moment = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(calendar.timegm(moment), tz=UTC) if moment else None


def _newest(entries: list) -> int:
    """The position of the newest dated release that is not a pre-release (the first of
    equals; of all entries when each is a pre-release); the first such when none is dated
    (feeds list the newest first). An entry whose date cannot be read is its own problem (in
    `_item`), never the feed's."""
    releases = [
        index for index, entry in enumerate(entries) if not _prerelease(_release_name(entry))
    ] or list(range(len(entries)))
    dated = []
    for index in releases:
        try:
            moment = _moment(entries[index])
        except (ValueError, OverflowError, OSError, TypeError):
            continue
        if moment is not None:
            dated.append((moment, -index))
    return -max(dated)[1] if dated else (releases[0] if releases else 0)


def _release_name(entry) -> str:
    return _tag(entry.get("link")) or str(entry.get("title") or "")


# A pre-release marker after a version's digit (PEP 440's a1/b2/rc1/dev3, SemVer's -alpha.1,
# -beta, -rc.2, -preview, -canary; a lone letter only with its number, so "gemma-2b" is no
# beta), or a tag that names a pre-release channel outright.
_PRERELEASE = re.compile(
    r"\d[._-]?([abc]\d|(alpha|beta|rc|pre|preview|dev|canary|nightly)([._-]?\d+)?(?![a-z]))"
    r"|^(nightly|canary|preview|dev)\b",
    re.IGNORECASE,
)


def _prerelease(name: str) -> bool:
    """Whether a release's tag or title names a pre-release ("v0.15.0rc1": yes, "b4500" and
    "v1.2.3.post1": no)."""
    return bool(_PRERELEASE.search(name.strip()))


def _tag(link: str | None) -> str | None:
    """The tag of a GitHub release link (".../releases/tag/v0.14.0" → "v0.14.0")."""
    if not link or "/releases/tag/" not in link:
        return None
    return unquote(link.rsplit("/releases/tag/", 1)[1].strip("/")) or None
