"""What ingest refuses, and how much of an error it keeps: the bottom of the app's modules."""

# Characters of an error kept on a source's row or in a report.
ERROR_CHARS = 4000


class IngestError(Exception):
    """A request ingest refuses, with a message that says what and where."""
