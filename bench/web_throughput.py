"""Throughput of a hot comparison page, measured with wrk against nginx serving it statically.

Run: .venv/bin/python bench/web_throughput.py [--seconds 8] [--connections 32]
Needs wrk and nginx (apt-get install wrk nginx). Everything binds to 127.0.0.1.

Four targets in one run, each for a few seconds:
  1. nginx serving the page's HTML as a static file (the baseline for 2);
  2. nginx with the shipped proxy-cache config (deploy/nginx-shipwith.conf, rendered by
     tests/deploy/nginx.py as the deploy tests run it) in front of 3;
  3. the `shipwith up` app server (gunicorn with shipwith/web/gunicorn_conf.py), hot page;
  4. a bare Django `cache_page` view of the same HTML on the same gunicorn settings (baseline
     for 3).
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PY = sys.executable
PORTS = {"app": 18001, "bare": 18002, "static": 18003, "proxy": 18004}
# A returning reader who has voted before: cached pages are the same bytes for them too.
COOKIE = "Cookie: shipwith_voted=1"
ROUNDS = 3


def wait_for(url: str, timeout: float = 30) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def gunicorn(env: dict, port: int, workers: int) -> subprocess.Popen:
    command = [
        PY, "-m", "gunicorn", "shipwith.wsgi", "--config", "python:shipwith.web.gunicorn_conf",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--access-logfile", "/dev/null",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, cwd=BENCH, start_new_session=True)


def nginx_conf(home: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from tests.deploy.nginx import render

    proxy = render(
        upstreams=[f"127.0.0.1:{PORTS['app']}"],
        port=PORTS["proxy"],
        cache_dir=home / "nginx-cache",
        static_dir=home / "static",
    )
    (home / "shipwith.conf").write_text(proxy)
    conf = home / "nginx.conf"
    conf.write_text(
        f"""
user root;
worker_processes auto;
pid {home}/nginx.pid;
error_log {home}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {home}/nginx-body;
    proxy_temp_path {home}/nginx-proxy-temp;
    fastcgi_temp_path {home}/nginx-fastcgi;
    uwsgi_temp_path {home}/nginx-uwsgi;
    scgi_temp_path {home}/nginx-scgi;
    include {home}/shipwith.conf;
    server {{
        listen 127.0.0.1:{PORTS["static"]};
        root {home}/docroot;
        location / {{ try_files $uri $uri/index.html =404; }}
    }}
}}
"""
    )
    return conf


def wrk(url: str, seconds: int, connections: int, threads: int) -> float:
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-H", COOKIE, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non2xx:
        raise RuntimeError(f"{url}: {non2xx.group(1)} error responses\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=3, help="as `shipwith up` (default 3)")
    parser.add_argument("--tools", type=int, default=200)
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install wrk nginx")

    home = Path(tempfile.mkdtemp(prefix="shipwith-bench-wrk-"))
    env = {**os.environ, "SHIPWITH_HOME": str(home), "PYTHONPATH": f"{BENCH}:{ROOT}"}
    env.pop("DATABASE_URL", None)
    setup = (
        "import django; django.setup();"
        "from django.core.management import call_command;"
        "call_command('migrate', verbosity=0); call_command('collectstatic', verbosity=0,"
        " interactive=False);"
        f"from web_data import populate; t = populate({args.tools});"
        "from shipwith.catalog.pairs import pair_slug; print(f'/compare/{pair_slug(t[0], t[8])}/')"
    )
    page = (
        subprocess.run(
            [PY, "-c", setup],
            env={**env, "DJANGO_SETTINGS_MODULE": "shipwith.settings"},
            cwd=BENCH,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )

    processes = []
    runs: dict[str, list[float]] = {}
    try:
        app = gunicorn({**env, "DJANGO_SETTINGS_MODULE": "shipwith.settings"}, PORTS["app"],
                       args.workers)  # fmt: skip
        processes.append(app)
        html = wait_for(f"http://127.0.0.1:{PORTS['app']}{page}")
        (home / "docroot" / page.strip("/")).mkdir(parents=True)
        (home / "docroot" / page.strip("/") / "index.html").write_bytes(html)
        (home / "page.html").write_bytes(html)
        bare = gunicorn(
            {**env, "DJANGO_SETTINGS_MODULE": "web_bare_site", "SHIPWITH_BENCH_PAGE":
             str(home / "page.html")},
            PORTS["bare"],
            args.workers,
        )  # fmt: skip
        processes.append(bare)
        (home / "nginx-cache").mkdir()
        nginx = subprocess.Popen(
            ["nginx", "-p", str(home), "-c", str(nginx_conf(home)), "-g", "daemon off;"],
            start_new_session=True,
        )
        processes.append(nginx)
        urls = {
            "nginx static": f"http://127.0.0.1:{PORTS['static']}{page}",
            "nginx proxy cache (shipped)": f"http://127.0.0.1:{PORTS['proxy']}{page}",
            "shipwith app, hot page": f"http://127.0.0.1:{PORTS['app']}{page}",
            "bare Django cache_page": f"http://127.0.0.1:{PORTS['bare']}/bare/",
        }
        for url in urls.values():
            wait_for(url)
        proxied = urls["nginx proxy cache (shipped)"]
        with urllib.request.urlopen(proxied, timeout=5) as response:
            status = response.headers.get("X-Cache-Status")
            cache_control = response.headers.get("Cache-Control")
        if status not in ("HIT", "STALE", "UPDATING", "REVALIDATED"):  # served by the app
            raise RuntimeError(f"{proxied}: X-Cache-Status {status} ({cache_control})")
        # Interleaved rounds: the machine is shared, so each pair is measured side by side.
        for _ in range(ROUNDS):
            for name, url in urls.items():
                rps = wrk(url, args.seconds, args.connections, args.threads)
                runs.setdefault(name, []).append(rps)
    finally:
        for process in processes:
            stop(process)
        shutil.rmtree(home, ignore_errors=True)

    print(f"page: {page} ({len(html):,} bytes); wrk {args.threads} threads, "
          f"{args.connections} connections, {args.seconds} s x {ROUNDS} interleaved rounds; "
          f"gunicorn {args.workers} workers (shipwith/web/gunicorn_conf.py)")  # fmt: skip
    for name, values in runs.items():
        shown = ", ".join(f"{v:.0f}" for v in values)
        print(f"{name:>32}: median {statistics.median(values):8.0f} req/s  ({shown})")

    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(runs[a], runs[b], strict=True))

    app = ratio("shipwith app, hot page", "bare Django cache_page")
    proxy = ratio("nginx proxy cache (shipped)", "nginx static")
    print(f"shipwith app / bare cache_page: {app:.2f}x (goal >= 1.0x)")
    print(f"nginx proxy cache (shipped) / nginx static: {proxy:.2f}x (goal >= 0.8x)")


if __name__ == "__main__":
    main()
