"""Security headers on every response."""

from flask import request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'"
)


def register(app) -> None:
    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        # Nothing but the vendored static assets may be kept by a browser or proxy: every page
        # may carry OFFICIAL-SENSITIVE data, and a shared computer must not show it from cache.
        if request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response
