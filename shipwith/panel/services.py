"""The panel's writes used to live here; they are in personas.py, runs.py, seats.py and
asking.py now, and the task helpers in tasks.py.

Kept only for importers outside the panel until they import from the new modules, then to be
deleted: shipwith/api/editors.py and shipwith/ingest/services.py (panel_run_enqueue, from
tasks.py), tests/api/test_tokens.py (panel_run_finish, panel_run_open, seat_fail).
"""

from shipwith.panel.runs import panel_run_finish, panel_run_open
from shipwith.panel.seats import seat_fail
from shipwith.panel.tasks import panel_run_enqueue

__all__ = ["panel_run_enqueue", "panel_run_finish", "panel_run_open", "seat_fail"]
