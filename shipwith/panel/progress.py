"""Run panels in the foreground with an honest progress bar (seats done, rate, ETA)."""

import sys

from tqdm import tqdm

from shipwith.panel.models import PanelRun, Persona, SeatStatus
from shipwith.panel.selectors import panel_label, panel_summary
from shipwith.panel.services import panel_run_execute, panel_run_open


def panels_run_with_progress(
    *, tool_ids: list[int], model_spec: str | None = None, write=print, file=None
) -> list[PanelRun]:
    """Review tools one after another; one bar step per persona, results as lines."""
    from shipwith.catalog.models import Tool

    seats = Persona.objects.filter(active=True).count()
    names = dict(Tool.objects.filter(pk__in=tool_ids).values_list("pk", "name"))
    runs = []
    with tqdm(
        total=len(tool_ids) * seats,
        unit="review",
        file=file or sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
    ) as bar:
        for tool_id in tool_ids:
            bar.set_description(names.get(tool_id, str(tool_id))[:24])

            def step(seat, bar=bar):
                bar.update(1)
                if seat.status == SeatStatus.FAILED:
                    _say(bar, write, f"  {seat.persona.name}: failed ({seat.error[:160]})")

            run = panel_run_open(tool_id=tool_id, model_spec=model_spec)
            # Seats settled by an interrupted earlier attempt are not work left to do.
            settled = run.seats.exclude(status=SeatStatus.PENDING).count()
            if settled:
                bar.total -= settled
                bar.refresh()
            run = panel_run_execute(run_id=run.pk, on_seat=step)
            runs.append(run)
            summary = panel_label(panel_summary(tool_id))
            _say(bar, write, f"{names.get(tool_id)}: {run.status} · {summary}")
    return runs


def _say(bar: tqdm, write, line: str) -> None:
    bar.clear()
    write(line)
    bar.refresh()
