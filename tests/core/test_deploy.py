"""Production settings: `check --deploy` is clean, security headers are set, the admin's
sign-in is rate-limited, and browsers find an icon."""

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.core.cache import caches
from django.test import Client

HEADERS = """
import django, json
django.setup()
from django.test import Client
client = Client(HTTP_HOST="shipwith.example")
plain = client.get("/favicon.ico")
secure = client.get("/favicon.ico", secure=True, HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "secure": [secure.status_code, secure.get("Location")],
    "headers": dict(secure.headers),
}))
"""


def production(tmp_path) -> dict:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("SHIPWITH_", "DATABASE_URL"))
    }
    environment.update(
        SHIPWITH_HOME=str(tmp_path),
        SHIPWITH_HTTPS="1",
        SHIPWITH_SECRET_KEY=secrets.token_urlsafe(50),
        SHIPWITH_ALLOWED_HOSTS="shipwith.example",
        SHIPWITH_BASE_URL="https://shipwith.example",
        DJANGO_SETTINGS_MODULE="shipwith.settings",
    )
    return environment


def test_check_deploy_with_https_prints_no_warnings(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "shipwith", "check", "--deploy", "--fail-level", "WARNING"],
        env=production(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_https_redirect_hsts_and_the_other_security_headers(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", HEADERS],
        env=production(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(result.stdout)
    assert seen["plain"] == [301, "https://shipwith.example/favicon.ico"]
    assert seen["secure"] == [301, "/static/web/favicon.svg"]
    headers = seen["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


@pytest.fixture
def editor(db):
    for cache in caches.all(initialized_only=True):
        cache.clear()
    User.objects.create_superuser("editor", "editor@example.com", "a long passphrase")
    yield
    for cache in caches.all(initialized_only=True):
        cache.clear()


def sign_in(client, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": "editor", "password": password})


def test_admin_sign_in_is_limited_per_address(editor, settings):
    settings.SHIPWITH_ADMIN_LOGIN_RATE = "3/d"  # one window for the whole test
    guesser = Client(REMOTE_ADDR="203.0.113.7")
    for guess in ["123456", "password", "letmein"]:
        response = sign_in(guesser, guess)
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    refused = sign_in(guesser, "a long passphrase")  # even the right one, from that address
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 86401
    assert "Too many sign-in attempts" in refused.content.decode()
    assert guesser.get("/admin/login/").status_code == 200  # the page itself still shows

    editor_desk = Client(REMOTE_ADDR="198.51.100.2")
    signed_in = sign_in(editor_desk, "a long passphrase")
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"


def test_pages_link_an_icon_and_favicon_ico_finds_it(db, client):
    assert finders.find("web/favicon.svg")
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/web/favicon.svg"
    assert b'rel="icon" href="/static/web/favicon.svg"' in client.get("/").content
