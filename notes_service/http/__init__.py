"""What every request shares, whichever blueprint serves it: who is asking (cookie sessions and bearer
tokens), CSRF and headers, cookies, ETags, error pages and JSON errors, throttling, the access log,
the shapes of forms (pages) and schemas (API) and how rows become JSON, and /docs."""
