"""Run panels in the foreground with an honest progress bar (seats done, rate, ETA)."""

import sys

from django.db import DatabaseError
from tqdm import tqdm

from shipwith.catalog.models import Tool
from shipwith.panel.models import PanelRun, Persona, SeatStatus
from shipwith.panel.recusal import FIX
from shipwith.panel.runs import panel_run_execute, panel_run_open, panel_run_reopen
from shipwith.panel.selectors import panel_label, panel_summary, recused_seats


def panels_run_with_progress(
    *,
    tool_ids: list[int] = (),
    run_ids: list[int] = (),
    model_spec: str | None = None,
    write=print,
    file=None,
) -> list[PanelRun]:
    """Review tools (`tool_ids`), then finish incomplete runs (`run_ids`: only their failed or
    recused seats are asked again); one bar step per seat, results as lines."""
    seats = Persona.objects.filter(active=True).count()
    finishing = dict(PanelRun.objects.filter(pk__in=run_ids).values_list("pk", "tool_id"))
    names = dict(
        Tool.objects.filter(pk__in=[*tool_ids, *finishing.values()]).values_list("pk", "name")
    )
    work = [(tool_id, None) for tool_id in tool_ids] + [
        (finishing[run_id], run_id) for run_id in run_ids if run_id in finishing
    ]
    runs = []
    with tqdm(
        total=len(tool_ids) * seats,
        unit="review",
        file=file or sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
    ) as bar:
        for tool_id, run_id in work:
            bar.set_description(names.get(tool_id, str(tool_id))[:24])

            def step(seat, bar=bar):
                bar.update(1)
                if seat.status == SeatStatus.FAILED:
                    _say(bar, write, f"  {seat.persona.name}: failed ({seat.error[:160]})")

            try:
                run = _run_one(bar, tool_id, run_id, model_spec, step)
            except DatabaseError as exc:  # one tool's trouble never stops the others
                _say(bar, write, f"{names.get(tool_id)}: stopped by a database error ({exc})")
                continue
            if run is None:
                continue
            runs.append(run)
            summary = panel_label(panel_summary(tool_id))
            _say(bar, write, f"{names.get(tool_id)}: {run.status} · {summary}")
    recusal_advice(runs, write)
    return runs


def _run_one(bar: tqdm, tool_id: int, run_id: int | None, model_spec, step) -> PanelRun | None:
    if run_id is not None:
        reopened = panel_run_reopen(run_id=run_id)
        if not reopened:
            return None
        bar.total += len(reopened)
        bar.refresh()
        return panel_run_execute(run_id=run_id, on_seat=step)
    run = panel_run_open(tool_id=tool_id, model_spec=model_spec)
    # Seats settled by an interrupted earlier attempt are not work left to do.
    settled = run.seats.exclude(status=SeatStatus.PENDING).count()
    if settled:
        bar.total -= settled
        bar.refresh()
    return panel_run_execute(run_id=run.pk, on_seat=step)


def recusal_advice(runs: list[PanelRun], write=print) -> None:
    """Say which seats stay recused and how an editor gives them a model."""
    seats = recused_seats([run.pk for run in runs])
    if not seats:
        return
    write(f"{len(seats)} seat(s) recused with no usable alternate:")
    for seat in seats[:10]:
        write(f"  {seat.run.tool.name}, {seat.persona.name}: {seat.error}")
    write(f"To review them: {FIX}.")


def _say(bar: tqdm, write, line: str) -> None:
    bar.clear()
    write(line)
    bar.refresh()
