"""The processes: `notes-service serve`'s supervisor, its forked hypercorn workers and their listening
sockets, and the timers each worker runs beside its requests (housekeeping)."""
