"""Signals other parts of the service subscribe to (for example, the documents that are
rendered when minutes are approved)."""

from blinker import Namespace

_signals = Namespace()

# Sent inside the approving request's transaction, with meeting=<Meeting> and approved_by=<User>.
minutes_approved = _signals.signal("minutes-approved")
