-- wrk script for POST /api/notes: a small JSON note (the bearer token comes in with -H).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title": "Written by wrk", "content": "A note created under load by the benchmark."}'
