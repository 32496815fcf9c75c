"""gunicorn settings for `shipwith up` (bind and worker count come from the command line)."""

worker_class = "gthread"
threads = 4
keepalive = 5
timeout = 60
