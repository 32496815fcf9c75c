"""A project-wide setting the requests could not read stops `shipwith check` (and so `up`),
naming the setting, instead of failing a reader's request later."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

RATES = [
    "SHIPWITH_ADMIN_LOGIN_RATE",
    "NEWSLETTER_SIGNUP_RATE",
    "SHIPWITH_VOTES_RATE_VOTER",
    "SHIPWITH_VOTES_RATE_IP",
    "SHIPWITH_VOTES_NEW_VOTERS_PER_IP",
    "SHIPWITH_API_RATE",
    "SHIPWITH_API_WRITE_RATE",
]


def core_errors() -> list[str]:
    return [error.msg for error in run_checks() if error.id == "shipwith.core.E001"]


def test_the_default_settings_pass():
    assert core_errors() == []


@pytest.mark.parametrize("name", RATES)
@pytest.mark.parametrize("value", ["300/fortnight", "fast", "0/m"])
def test_a_bad_rate_is_named_by_shipwith_check(settings, name, value):
    setattr(settings, name, value)
    [message] = core_errors()
    assert message.startswith(f"{name}: not a rate: {value!r}")
    with pytest.raises(SystemCheckError, match=name):
        call_command("check")


def test_a_plain_number_is_a_count_per_day_only_for_new_voters(settings):
    settings.SHIPWITH_VOTES_NEW_VOTERS_PER_IP = "10"
    assert core_errors() == []
    settings.SHIPWITH_VOTES_RATE_IP = "300"
    [message] = core_errors()
    assert message.startswith("SHIPWITH_VOTES_RATE_IP: not a rate: '300'")


def test_a_bad_trusted_proxy_is_named_by_shipwith_check(settings):
    settings.SHIPWITH_TRUSTED_PROXIES = "127.0.0.1, nginx"
    [message] = core_errors()
    assert "SHIPWITH_TRUSTED_PROXIES: 'nginx' is neither an address" in message
    with pytest.raises(SystemCheckError, match="SHIPWITH_TRUSTED_PROXIES"):
        call_command("check")


def test_the_command_line_stops_on_a_bad_rate_from_the_environment(tmp_path):
    root = Path(__file__).resolve().parents[2]
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("SHIPWITH_", "DATABASE_URL"))
    }
    environment.update(
        SHIPWITH_HOME=str(tmp_path / "var"),
        PYTHONPATH=str(root),
        SHIPWITH_NEWSLETTER_SIGNUP_RATE="10/fortnight",
    )
    result = subprocess.run(
        [sys.executable, "-m", "shipwith", "check"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "NEWSLETTER_SIGNUP_RATE: not a rate: '10/fortnight'" in result.stderr
