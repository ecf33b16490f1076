"""E-mail: composing and sending reminder digests and escalations."""
