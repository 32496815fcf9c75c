"""What the shipped nginx answers for the API before the app sees a request is in the schema.

Debian's nginx with deploy/nginx-shipwith.conf in front of gunicorn as `shipwith up` runs it:
each request below is refused by nginx or gunicorn with an HTML page, and the operation asked
for documents that status with that content type (shipwith/api/server_answers.py).
"""

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from tests.deploy.nginx import free_port, needs_nginx, nginx
from tests.votes.live import live_site

pytestmark = needs_nginx

CHECKS = [status_code_conformance, content_type_conformance]
NGINX_LINE = 8 * 1024  # large_client_header_buffers: 4 8k (nginx's default)
NGINX_BODY = 2 * 1024 * 1024  # client_max_body_size 2m


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nginx-api")
    with (
        live_site(tmp / "app", tools=1) as site,
        nginx(tmp / "nginx", upstreams=[site.url.removeprefix("http://")], static_dir=tmp) as url,
    ):
        yield schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json"), url


def refused(case, url: str, status: int, **kwargs) -> None:
    response = case.call(base_url=url, **kwargs)
    assert (response.status_code, response.headers["content-type"]) == (status, ["text/html"])
    case.validate_response(response, checks=CHECKS)


def test_a_request_line_over_gunicorns_limit_gets_its_414_through_nginx(behind_nginx):
    schema, url = behind_nginx
    refused(schema["/api/v1/tools"]["GET"].Case(query={"q": "a" * 5000}), url, 414)


def test_a_request_line_over_nginxs_limit_gets_nginxs_414(behind_nginx):
    schema, url = behind_nginx
    refused(schema["/api/v1/tools"]["GET"].Case(query={"q": "a" * NGINX_LINE}), url, 414)


def test_a_header_over_nginxs_limit_gets_a_400(behind_nginx):
    schema, url = behind_nginx
    case = schema["/api/v1/tools/{slug}"]["GET"].Case(path_parameters={"slug": "tool-0"})
    refused(case, url, 400, headers={"Cookie": "a=" + "a" * NGINX_LINE})


def test_a_body_over_nginxs_limit_gets_a_413(behind_nginx):
    schema, url = behind_nginx
    body = {"name": "Big", "url": "https://example.com/", "description": "a" * NGINX_BODY}
    refused(schema["/api/v1/tools"]["POST"].Case(body=body), url, 413)


def test_nginx_without_the_app_answers_502(behind_nginx, tmp_path):
    schema, _ = behind_nginx
    with nginx(tmp_path, upstreams=[f"127.0.0.1:{free_port()}"], static_dir=tmp_path) as down:
        refused(schema["/api/v1/categories"]["GET"].Case(), down, 502)
