"""Security headers and the response every page goes out in."""

from __future__ import annotations

from starlette.responses import HTMLResponse


def security_headers(frame_ancestors: tuple[str, ...]) -> dict[str, str]:
    """Headers for pages that hold patient data: no caching, no framing unless allowed."""
    ancestors = " ".join(frame_ancestors) if frame_ancestors else "'none'"
    headers = {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
            "style-src 'self'; img-src 'self'; form-action 'self'; "
            f"frame-ancestors {ancestors}"
        ),
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if not frame_ancestors:
        # X-Frame-Options cannot name an origin; when the EHR may frame the form, the CSP
        # frame-ancestors directive alone says which.
        headers["X-Frame-Options"] = "DENY"
    return headers


def page(html: str, *, status: int = 200, frame_ancestors: tuple[str, ...] = ()) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers=security_headers(frame_ancestors))
