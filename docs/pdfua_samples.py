"""Render the minutes, the redacted minutes and the action summary from the demo data into a folder,
for an independent PDF/UA checker (see docs/pdfua-check.md).

Usage (from the repository's root, with the demo data loaded by `make run` or `flask seed-demo`):
    TRACKER_ENV=development .venv/bin/python docs/pdfua_samples.py /tmp/pdfua [MEETING_ID]
    .venv/bin/pdfua check /tmp/pdfua/*.pdf
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from tracker import create_app
from tracker.actions.filters import ActionFilter
from tracker.documents import action_summary, minutes
from tracker.extensions import db
from tracker.models import Meeting, User

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
app = create_app()
with app.test_request_context():
    chair = db.session.scalar(select(User).where(User.email == "chair@example.org"))
    partner = db.session.scalar(select(User).where(User.email == "housing@example.org"))
    meeting = db.session.get(Meeting, int(sys.argv[2]) if len(sys.argv) > 2 else 10)
    (out / "minutes.pdf").write_bytes(
        minutes.render_minutes(meeting, chair, document_id="MIN-X", produced_for="Chair").pdf
    )
    (out / "minutes-redacted.pdf").write_bytes(
        minutes.render_minutes(meeting, partner, document_id="MIN-Y", produced_for="Partner").pdf
    )
    f, _ = ActionFilter.parse(MultiDict({"status": ""}), chair)
    (out / "action-summary.pdf").write_bytes(action_summary.render_summary(chair, f, produced_for="Chair").pdf)
