"""How a fetch fails: one error that names the URL and what went wrong."""


class FetchError(Exception):
    """A fetch that did not give a usable body; the message names the URL and what went wrong.

    `unreachable`: the host was never reached (its name did not resolve, no connection could
    be made): this machine may be offline, rather than the source broken.
    """

    def __init__(
        self, url: str, message: str, *, status: int | None = None, unreachable: bool = False
    ):
        super().__init__(f"{url}: {message}")
        self.url = url
        self.reason = message
        self.status = status
        self.unreachable = unreachable
