"""PDF documents: minutes (full and redacted) and action summaries, rendered with WeasyPrint."""
