"""The application shell: path families, tenants, errors, authentication, size limit."""

from __future__ import annotations

import base64
from dataclasses import replace

import httpx

from lanner.api import create_app
from lanner.services import Services
from lanner.settings import Settings


async def test_health_and_configs_answer_under_every_family(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "UP"}
    for path in ("/api/v1/configs", "/api/v1/main/configs"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.json()["edition"] == "OSS"


async def test_another_tenant_is_not_found_with_a_kestra_error_body(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/acme/configs")
    assert response.status_code == 404
    body = response.json()
    assert body["message"] == "Not Found: Unknown tenant 'acme'"
    assert body["_links"]["self"]["href"] == "/api/v1/acme/configs"
    assert body["_embedded"]["errors"][0]["message"] == body["message"]


async def test_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/main/nothing-here")
    assert response.status_code == 404
    assert response.json()["message"].startswith("Not Found")


async def test_openapi_document_describes_the_tenant_family(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    assert "/api/v1/{tenant}/configs" in document["paths"]
    assert "/api/v1/configs" not in document["paths"]


async def _client_for(settings: Settings, services: Services) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings, services))
    return httpx.AsyncClient(transport=transport, base_url="http://lanner.test")


async def test_basic_auth_guards_everything_but_health_and_configs(
    settings: Settings, services: Services
) -> None:
    guarded = replace(settings, users={"admin": "s3cret"})
    async with await _client_for(guarded, services) as client:
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/api/v1/main/configs")).status_code == 200
        refused = await client.get("/api/v1/main/nothing")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == 'Basic realm="lanner"'
        assert refused.json()["message"] == "Unauthorized: valid credentials are required"
        wrong = base64.b64encode(b"admin:nope").decode()
        bad = await client.get("/api/v1/main/nothing", headers={"Authorization": f"Basic {wrong}"})
        assert bad.status_code == 401
        webhook = await client.post("/api/v1/main/executions/webhook/ns/flow/key")
        assert webhook.status_code != 401
        right = base64.b64encode(b"admin:s3cret").decode()
        ok = await client.get("/api/v1/main/nothing", headers={"Authorization": f"Basic {right}"})
        assert ok.status_code == 404


async def test_request_bodies_over_the_limit_are_refused(
    settings: Settings, services: Services
) -> None:
    small = replace(settings, max_request_bytes=10)
    async with await _client_for(small, services) as client:
        response = await client.post("/api/v1/main/flows", content=b"x" * 11)
        assert response.status_code == 413
        assert "the limit is 10 bytes" in response.json()["message"]


async def test_cors_is_off_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in response.headers


async def test_malformed_json_is_invalid_json_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/main/executions/abc/labels",
        content=b"{bad",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["message"].startswith("Invalid json: ")
