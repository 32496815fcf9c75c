"""An editor's third decision: "this candidate is that catalog tool", for the match dedupe
missed. The tool learns the name and identifiers it lacked, so runs match it from now on."""

from django.db import transaction
from django.utils import timezone

from shipwith.catalog.models import Tool
from shipwith.core.freshness import tools_touch
from shipwith.core.text import plain_text
from shipwith.ingest.dedupe import Index
from shipwith.ingest.errors import IngestError
from shipwith.ingest.models import Candidate, Status
from shipwith.ingest.nearest import IDENTIFIERS, tool_entry

# Catalog files allow aliases of one line up to this length (catalog/files.py).
ALIAS_CHARS = 120


def _teach(tool: Tool, candidate: Candidate) -> None:
    """Give the tool the candidate's name as an alias, when dedupe would not match the name
    (a source may give nothing else), and the identifiers it lacks that no tool holds."""
    alias = " ".join(plain_text(candidate.name).split())[:ALIAS_CHARS]
    by_name = Index([tool_entry(tool)]).match(name=candidate.name, vendor=candidate.vendor)
    if alias and by_name is None:
        tool.aliases = "\n".join([*tool.alias_list, alias])
    for _, column, _ in IDENTIFIERS:
        value = getattr(candidate, column)
        if value and not getattr(tool, column):
            if not Tool.objects.filter(**{f"{column}__iexact": value}).exists():
                setattr(tool, column, value)


def candidate_merge(*, candidate_id: int, tool_id: int) -> Candidate:
    """Decide in one transaction that an undecided candidate is this catalog tool: link it and
    its mentions to the tool and teach the tool its name and identifiers. None of the
    candidate's facts is applied: a change a source reports later is proposed as an update."""
    with transaction.atomic():
        candidate = (
            Candidate.objects.select_for_update(of=("self",)).filter(pk=candidate_id).first()
        )
        if candidate is None:
            raise IngestError(f"candidate {candidate_id}: no such candidate")
        if candidate.status in (Status.ACCEPTED, Status.REJECTED):
            raise IngestError(
                f"candidate {candidate_id} ({candidate.name}) is already {candidate.status}"
            )
        tool = (
            Tool.objects.select_for_update(of=("self",))
            .select_related("vendor")
            .filter(pk=tool_id)
            .first()
        )
        if tool is None:
            raise IngestError(f"no catalog tool with id {tool_id} to merge into")
        _teach(tool, candidate)
        tool.save()
        candidate.tool = tool
        candidate.status = Status.ACCEPTED
        candidate.changes = {}
        candidate.rejection_reason = ""
        candidate.decided_at = timezone.now()
        candidate.save()
        transaction.on_commit(lambda: tools_touch(tool.pk))
    return candidate
