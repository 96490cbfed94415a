"""Markdown that tries to run script (SPEC §9): each entry marks success by `window.pwned` or alert()."""

from __future__ import annotations

XSS_CORPUS = [
    "<script>window.pwned = 1</script>",
    '<img src=x onerror="window.pwned = 1">',
    '<svg onload="window.pwned = 1"><script>window.pwned = 1</script></svg>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "[click](javascript:window.pwned=1)",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '[click](https://example.com "title\\" onmouseover=\\"alert(1)")',
    "![img](javascript:alert(1))",
    '<a href="javascript:alert(1)">raw link</a>',
    "&lt;script&gt;window.pwned = 1&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "**<b onclick=alert(1)>bold</b>** _[*nested*](javascript:alert(1))_",
    "> - [ ] <iframe src=javascript:alert(1)></iframe>",
    "| a | <img src=x onerror=alert(1)> |\n|---|---|\n"
    "| [x](javascript:alert(1)) | ~~<script>alert(1)</script>~~ |",
    "```html\n<script>window.pwned = 1</script>\n```",
    "<style>body{display:none}</style><form action=javascript:alert(1)><button>go</button></form>",
    "[<img src=x onerror=alert(1)>](https://example.com)",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]
