"""Normalising what sources say: licences, homepages, prices, dates."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shipwith.ingest import normalise as n


@pytest.mark.parametrize(
    ("given", "spdx"),
    [
        ("apache-2.0", "Apache-2.0"),
        ("license:mit", "MIT"),
        ("Apache-2.0", "Apache-2.0"),
        ("llama3.1", "Llama 3.1 Community License"),
        ("NOASSERTION", None),
        ("other", None),
        ("some-custom-thing", None),
        ("https://www.apache.org/licenses/LICENSE-2.0", "Apache-2.0"),
        ("https://opensource.org/licenses/MIT", "MIT"),
        ("https://spdx.org/licenses/BSD-3-Clause.html", "BSD-3-Clause"),
        (None, None),
    ],
)
def test_licences_become_spdx_ids_or_nothing(given, spdx):
    assert n.licence_spdx(given) == spdx


def test_licence_kind():
    assert n.licence_kind("MIT") == "open_source"
    assert n.licence_kind("Llama 3.1 Community License") is None
    assert n.licence_kind(None, weights=True) == "open_weights"


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://www.Quill.example/pricing", "quill.example"),
        ("quill.example", "quill.example"),
        ("https://github.com/acme/quill", None),
        ("https://acme.github.io/quill/", None),
        ("https://huggingface.co/acme/quill", None),
        ("javascript:alert(1)", None),
        ("javascript:alert(1).x", None),
        ("http://quill.example:99999999/", None),
        ("http://169.254.169.254/latest/", None),
        ("http://[::1]:8000/", None),
        ("http://localhost:8000/", None),
        ("", None),
    ],
)
def test_homepage_domains(url, domain):
    assert n.homepage_domain(url) == domain


def test_github_repo():
    assert n.github_repo("https://github.com/Acme/Quill.git") == "acme/quill"
    assert n.github_repo("https://github.com/acme") is None
    assert n.github_repo("https://gitlab.com/acme/quill") is None


@pytest.mark.parametrize(
    ("value", "per_token", "expected"),
    [
        ("0.0000025", True, Decimal("2.5")),
        ("0.0001", True, Decimal("100")),  # not 1E+2
        ("0", True, Decimal("0")),
        (2.5, False, Decimal("2.5")),
        (10, False, Decimal("10")),
        (None, True, None),
        ("99.9999999999", True, Decimal("99999999.9999")),  # the most the catalog holds
        ("0.00000000012345", True, Decimal("0.0001")),  # to the places the catalog keeps
    ],
)
def test_prices_per_million_tokens(value, per_token, expected):
    price = n.price_per_mtok(value, field="price", per_token=per_token)
    assert price == expected and str(price) == str(expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "price '-1' is negative"),
        ("abc", "price 'abc' is not a number"),
        ("NaN", "price 'NaN' is not a number"),
        (True, "price True is not a price"),
        ([1], r"price \[1\] is not a price"),
        ("1e30", "price '1e30' is beyond what the catalog holds"),
        ("100", r"price '100' is beyond what the catalog holds \(at most 99999999.9999 USD"),
        ("1e999999", "price '1e999999' is beyond what the catalog holds"),
    ],
)
def test_bad_prices_are_refused_with_the_field_and_value(value, message):
    with pytest.raises(ValueError, match=message):
        n.price_per_mtok(value, field="price", per_token=True)


def test_a_price_per_million_is_bounded_like_one_per_token():
    assert n.price_per_mtok(99999999.9999, field="cost", per_token=False) == Decimal(
        "99999999.9999"
    )
    with pytest.raises(ValueError, match="cost 100000000 is beyond what the catalog holds"):
        n.price_per_mtok(100000000, field="cost", per_token=False)


def test_whole_numbers_are_bounded_to_what_a_database_integer_holds():
    assert n.whole(2**63 - 1, field="context_length") == 2**63 - 1
    with pytest.raises(ValueError, match="context_length 10000000000000000000 is beyond"):
        n.whole(10**19, field="context_length")


def test_dates():
    assert n.when("2024-07-18T08:56:00.000Z", field="d") == datetime(2024, 7, 18, 8, 56, tzinfo=UTC)
    assert n.when(1715558400, field="d") == datetime(2024, 5, 13, tzinfo=UTC)
    assert n.day("2025-08", field="d") == date(2025, 8, 1)
    with pytest.raises(ValueError, match="created 'yesterday' is not a date"):
        n.when("yesterday", field="created")
    with pytest.raises(ValueError, match="is not a valid Unix time"):
        n.when(10**20, field="created")
