"""Debian's nginx on loopback running the shipped deploy/nginx-shipwith.conf, for tests and bench.

The shipped file is used as it is, with only its `ADJUST` lines filled in for this run (ports,
cache and static folders); a drift in those lines fails the render, not silently the test.
"""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.votes.live import port_wait

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "nginx-shipwith.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

MAIN = """\
{user}worker_processes {workers};
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/shipwith.conf;
{extra}}}
"""


def nginx_available() -> bool:
    return os.path.exists(NGINX)


needs_nginx = pytest.mark.skipif(
    not nginx_available(), reason="Debian's nginx is not installed (`make nginx` installs it)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _replace(text: str, pattern: str, replacement: str) -> str:
    new, count = re.subn(pattern, lambda _: replacement, text, flags=re.MULTILINE)
    if count != 1:
        raise AssertionError(f"deploy/nginx-shipwith.conf: expected one line matching {pattern!r}")
    return new


def render(*, upstreams: list[str], port: int, cache_dir: Path, static_dir: Path) -> str:
    """The shipped config with its ADJUST lines set for this run."""
    text = SHIPPED.read_text()
    text = _replace(text, r"/var/cache/nginx/shipwith(?= levels)", str(cache_dir))
    servers = "\n".join(f"    server {address};" for address in upstreams)
    text = _replace(text, r"^    server 127\.0\.0\.1:8000;.*$", servers)
    text = _replace(text, r"^    listen 80;.*$", f"    listen 127.0.0.1:{port};")
    text = _replace(text, r"^    server_name shipwith\.example;.*$", "    server_name 127.0.0.1;")
    return _replace(text, r"/srv/shipwith/var/static/", f"{static_dir}/")


@contextlib.contextmanager
def nginx(
    tmp: Path,
    *,
    upstreams: list[str],
    static_dir: Path,
    port: int = 0,
    workers: int = 1,
    extra: str = "",
) -> Iterator[str]:
    """Run nginx with the shipped config in front of `upstreams`; yield its base URL."""
    tmp.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    (tmp / "shipwith.conf").write_text(
        render(upstreams=upstreams, port=port, cache_dir=tmp / "cache", static_dir=static_dir)
    )
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the test's folders
    main = MAIN.format(user=user, workers=workers, tmp=tmp, extra=extra)
    (tmp / "nginx.conf").write_text(main)
    command = [NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"]
    check = subprocess.run([*command[:-2], "-t", "-q"], capture_output=True, text=True)
    if check.returncode:
        raise AssertionError(f"nginx -t refused the config:\n{check.stderr}")
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        port_wait(port, server, "nginx")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.send_signal(signal.SIGQUIT)  # graceful: finish requests, then stop
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
