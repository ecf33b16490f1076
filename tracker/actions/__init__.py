"""Actions after they are raised: progress, status changes, due dates."""
