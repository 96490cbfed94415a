"""What the service is measured against: the app it rewrites, and the fastest thing its stack can do."""
