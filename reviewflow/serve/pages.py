"""The two HTML pages the server writes itself: sign-in, and the page that holds the app.

No inline script (the Content-Security-Policy forbids it); every value is HTML-escaped.
"""

from __future__ import annotations

from html import escape

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self' ws: wss:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        '<link rel="stylesheet" href="/static/css/xterm.css">'
        '<link rel="stylesheet" href="/reviewflow-static/reviewflow.css">'
        f"</head><body>{body}</body></html>\n"
    )


def sign_in_page(review_title: str, csrf: str, message: str = "", name: str = "") -> str:
    note = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
    return _page(
        f"Sign in · {review_title}",
        '<main class="sign-in"><h1>reviewflow</h1>'
        f'<p class="review">{escape(review_title)}</p>{note}'
        '<form method="post" action="/signin" autocomplete="on">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        '<label for="name">Reviewer name</label>'
        f'<input id="name" name="name" autocomplete="username" required value="{escape(name)}"'
        f"{'' if name else ' autofocus'}>"
        '<label for="passphrase">Passphrase</label>'
        '<input id="passphrase" name="passphrase" type="password" '
        f'autocomplete="current-password" required{" autofocus" if name else ""}>'
        '<button type="submit">Sign in</button></form>'
        '<p class="hint">Your passphrase was set by your review\'s lead '
        "(<code>reviewflow reviewer passphrase NAME</code>).</p></main>",
    )


def app_page(review_title: str, who: str, role: str, csrf: str, websocket_url: str) -> str:
    return _page(
        f"{who} · {review_title}",
        '<header class="bar"><span class="brand">reviewflow</span>'
        f'<span class="review">{escape(review_title)}</span>'
        f'<span class="who">signed in as <b>{escape(who)}</b> ({escape(role)})</span>'
        '<form method="post" action="/signout">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        '<button type="submit">Sign out</button></form></header>'
        '<div id="terminal" class="textual-terminal" '
        f'data-session-websocket-url="{escape(websocket_url)}" data-font-size="16"></div>'
        '<div class="ended"><p>This session has ended.</p>'
        '<p><a href="/">Start again</a></p></div>'
        '<script src="/reviewflow-static/reviewflow.js"></script>'
        '<script src="/static/js/textual.js"></script>',
    )
