"""gunicorn settings for `shipwith up` (bind and worker count come from the command line)."""

worker_class = "gthread"
threads = 4
keepalive = 5  # deploy/nginx-shipwith.conf keeps idle upstream connections for less (4 s)
timeout = 60

# gunicorn's defaults, written out because the API's schema documents what it answers beyond
# them, before the app sees the request (shipwith/api/server_answers.py): an HTML 414 for a
# longer request line, an HTML 431 for a larger header field or more of them.
limit_request_line = 4094
limit_request_field_size = 8190
limit_request_fields = 100
