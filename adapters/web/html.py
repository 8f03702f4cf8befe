"""Page shell, stylesheet and security headers shared by every page.

Every value put into a page goes through :func:`esc`. The stylesheet is inline (one request,
nothing to host) and allowed by its hash, so the CSP forbids every other inline style and all
script.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from html import escape

from starlette.responses import HTMLResponse

STYLE = """
body{font-family:Arial,Helvetica,sans-serif;font-size:19px;line-height:1.4;color:#0b0c0c;
margin:0;background:#f3f2f1}
main{max-width:46em;margin:0 auto;padding:1em;background:#fff}
h1{font-size:1.6em;margin:.2em 0 .6em}h2{font-size:1.25em;margin:1.2em 0 .4em}
.who{color:#505a5f;margin:0 0 1em}
.prompt{border-left:8px solid #1d70b8;padding:.4em .8em;margin:.6em 0;background:#f8f8f8}
.prompt p{margin:.2em 0}
.sev{display:inline-block;font-weight:bold;padding:0 .4em;margin-right:.4em;color:#fff;
background:#1d70b8}
.sev-warning{border-color:#f47738}.sev-warning .sev,.sev.sev-warning{background:#a84100}
.sev-critical{border-color:#d4351c}.sev-critical .sev,.sev.sev-critical{background:#d4351c}
fieldset{border:0;padding:0;margin:0 0 1.2em}legend,label.field{font-weight:bold;display:block;
margin-bottom:.3em}
.option{display:block;margin:.25em 0}.hint{color:#505a5f;font-size:.9em;display:block}
textarea{width:100%;min-height:4.5em;font:inherit;border:2px solid #0b0c0c;box-sizing:border-box}
select{font:inherit}
input[type=text],input[type=datetime-local]{font:inherit;border:2px solid #0b0c0c;
padding:.15em .3em;width:100%;max-width:24em;box-sizing:border-box}
input[type=radio],input[type=checkbox]{width:1.1em;height:1.1em;margin-right:.4em}
.group{margin-bottom:1.2em;padding-left:0}
.invalid{border-left:5px solid #d4351c;padding-left:.8em}
.error{color:#d4351c;font-weight:bold;display:block;margin:.2em 0}
.summary{border:5px solid #d4351c;padding:.6em 1em;margin-bottom:1em}
.summary a{color:#d4351c;font-weight:bold}
.note{border-left:8px solid #1d70b8;background:#f8f8f8;padding:.4em .8em}
button{font:inherit;font-weight:bold;color:#fff;background:#00703c;border:0;padding:.5em 1.2em;
box-shadow:0 2px 0 #002d18;cursor:pointer}
button:focus,a:focus,input:focus,textarea:focus,select:focus{outline:3px solid #fd0}
.call{border:5px solid #d4351c;padding:.6em 1em;margin:1em 0}
.call .number{display:block;font-size:2.2em;font-weight:bold;color:#0b0c0c}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3em .5em .3em 0;
border-bottom:1px solid #b1b4b6;vertical-align:top}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:bold}dd{margin:0}
"""

_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()


def esc(value: object) -> str:
    """Escape for text and quoted attribute values alike."""
    return escape(str(value), quote=True)


def join(parts: Iterable[str]) -> str:
    return "".join(parts)


def layout(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="same-origin">'
        f"<title>{esc(title)} – Think Family</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def security_headers(frame_ancestors: tuple[str, ...]) -> dict[str, str]:
    """Headers for pages that hold patient data: no caching, no framing unless allowed."""
    ancestors = " ".join(frame_ancestors) if frame_ancestors else "'none'"
    headers = {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
            f"style-src 'sha256-{_STYLE_HASH}'; img-src 'self'; form-action 'self'; "
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


def page(
    title: str, body: str, *, status: int = 200, frame_ancestors: tuple[str, ...] = ()
) -> HTMLResponse:
    return HTMLResponse(
        layout(title, body), status_code=status, headers=security_headers(frame_ancestors)
    )
