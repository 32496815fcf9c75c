"""A tool's homepage domain: the host that names this tool alone, for matching new mentions."""

import re
from urllib.parse import urlsplit

# Hosts that serve many tools: a page there names no single tool.
SHARED_HOSTS = frozenset(
    {
        "github.com",
        "gitlab.com",
        "huggingface.co",
        "pypi.org",
        "npmjs.com",
        "medium.com",
        "substack.com",
        "youtube.com",
        "x.com",
        "twitter.com",
        "news.ycombinator.com",
        "openrouter.ai",
        "docs.google.com",
        "apps.apple.com",
        "play.google.com",
        "chromewebstore.google.com",
        "marketplace.visualstudio.com",
    }
)
_SCHEME = re.compile(r"^https?://", re.IGNORECASE)


def host_of(url: str | None) -> str:
    """The URL's host, lower case without "www.", unless it is a host shared by many tools."""
    if not url or not _SCHEME.match(url.strip()):
        return ""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")
    except ValueError:
        return ""
    host = host.removeprefix("www.")
    if not host or host in SHARED_HOSTS or host.endswith(".github.io"):
        return ""
    return host


def tool_domain(homepage: str | None) -> str:
    """The homepage's host when the homepage is a site's root ("https://ollama.com/"): a page
    deeper in a site ("openai.com/index/hello-gpt-4o/") belongs to its vendor, not the tool."""
    if not homepage:
        return ""
    path = urlsplit(homepage.strip()).path
    return host_of(homepage) if path in ("", "/") else ""
