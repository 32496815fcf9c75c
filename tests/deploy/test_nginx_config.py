"""The shipped nginx config agrees with how `shipwith up` runs gunicorn."""

import re

from shipwith.web import gunicorn_conf
from tests.deploy.nginx import SHIPPED as CONFIG


def test_nginx_drops_idle_upstream_connections_before_gunicorn_closes_them():
    # Otherwise a POST sent on a connection gunicorn is closing is answered 502 by nginx, which
    # never retries a POST: the soak's hour-long run lost a reader's vote that way.
    upstream = re.search(r"upstream shipwith_app \{(.*?)\}", CONFIG.read_text(), re.S)
    assert upstream, "the shipped config has no upstream block"
    timeout = re.search(r"^\s*keepalive_timeout (\d+)s;", upstream.group(1), re.M)
    assert timeout, "the upstream keeps connections with nginx's default 60 s idle timeout"
    assert int(timeout.group(1)) < gunicorn_conf.keepalive
