"""The one way ingest fetches anything: polite, bounded, and safe against SSRF.

Every adapter and page read goes through `Fetcher.get` (client.py), so each request gets the
same rules: only http(s), on the allowed ports (80 and 443 unless configured); the host is
resolved once and every address checked (no loopback, private, link-local, multicast,
reserved or unspecified address) before connecting, on every redirect hop too, and the
connection goes to the checked address (guard.py); connect and read timeouts, and one total
timeout that bounds the whole fetch (DNS, every address tried, TLS, the status line and
headers, the body, retries: deadline.py); a size cap counted while the body streams in and a
content-type check for what the caller expects (body.py); hand-followed redirects with a
limit and loop detection; bounded retries that honour Retry-After; a delay between requests
to one host (pacing.py); robots.txt for page fetches, its first 500 KiB (robots.py);
conditional GETs with stored validators; a User-Agent naming the instance. Credentials a
caller sends (an API token) go only to the origin it asked for: a redirect to another origin
drops them.
"""

from shipwith.ingest.fetch.body import Expect, Fetched
from shipwith.ingest.fetch.client import Fetcher, MemoryValidators, ValidatorStore
from shipwith.ingest.fetch.errors import FetchError

__all__ = ["Expect", "FetchError", "Fetched", "Fetcher", "MemoryValidators", "ValidatorStore"]
