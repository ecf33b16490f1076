"""A WeasyPrint URL fetcher that fails closed.

Only the project's own static files can be fetched, through a private base URL. Everything else —
file:, http(s): anywhere, data:, redirects — is refused and remembered, so tests can prove that
user text never caused a fetch.
"""

from __future__ import annotations

from pathlib import Path

from weasyprint.urls import URLFetcher, URLFetcherResponse

STATIC_ROOT = Path(__file__).resolve().parent.parent / "static"
# Not a real address: nothing is ever requested from it; it only names our own static files.
BASE_URL = "https://tracker.invalid/static/"

MIME_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}


class RefusedFetch(ValueError):
    pass


class StaticOnlyFetcher(URLFetcher):
    def __init__(self):
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        path = self._static_path(url)
        if path is None:
            self.refused.append(url)
            raise RefusedFetch(f"refused to fetch {url[:80]!r}")
        mime_type = MIME_TYPES.get(path.suffix, "application/octet-stream")
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime_type}, 200)

    @staticmethod
    def _static_path(url: str) -> Path | None:
        if not url.startswith(BASE_URL):
            return None
        relative = url[len(BASE_URL) :].split("?", 1)[0].split("#", 1)[0]
        path = (STATIC_ROOT / relative).resolve()
        if STATIC_ROOT not in path.parents or not path.is_file() or path.suffix not in MIME_TYPES:
            return None
        return path
