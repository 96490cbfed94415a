"""Delivering the outbox: the sender each worker runs, and its SMTP or file transport. What a message
says and when it is queued is decided in services/ (account_mail, outbox)."""
