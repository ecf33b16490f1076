"""Security headers on every response."""

import secrets

from flask import g, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    # style-src comes last: a page with a chart appends its style nonce (style_nonce below).
    "form-action 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'"
)


def style_nonce() -> str:
    """A nonce for the inline <style> of a server-drawn SVG chart on this response only (the policy
    otherwise allows stylesheets from our own origin alone)."""
    if "style_nonce" not in g:
        g.style_nonce = secrets.token_urlsafe(16)
    return g.style_nonce


def register(app) -> None:
    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        policy = CONTENT_SECURITY_POLICY
        if "style_nonce" in g:
            policy += f" 'nonce-{g.style_nonce}'"
        headers.setdefault("Content-Security-Policy", policy)
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
