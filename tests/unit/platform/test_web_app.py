"""A built single-page app served on its API's origin: routes, cache headers, CSP."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paysaga.platform.http import create_app
from paysaga.platform.web_app import CONTENT_SECURITY_POLICY, mount_web_app

pytestmark = pytest.mark.unit


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><script type="module" src="/assets/app-1a2b.js"></script>')
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log(1)")
    app = create_app(title="t", description="", readiness={})

    @app.get("/api/v1/thing")
    def thing() -> dict[str, int]:
        return {"n": 1}

    mount_web_app(app, tmp_path, ["/wallet", "/payments/{payment_id}"])
    return TestClient(app)


def test_the_app_routes_answer_index_html_revalidated_every_time(client: TestClient) -> None:
    for path in ("/", "/wallet", "/payments/0b6e1c8e-0000-4000-8000-000000000000"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "script-src 'self'" in CONTENT_SECURITY_POLICY


def test_hashed_assets_are_cached_for_good(client: TestClient) -> None:
    response = client.get("/assets/app-1a2b.js")
    assert response.status_code == 200 and response.text == "console.log(1)"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_api_and_unknown_paths_stay_the_apis(client: TestClient) -> None:
    assert client.get("/api/v1/thing").json() == {"n": 1}
    assert client.get("/api/v1/nothing").status_code == 404
    assert client.get("/assets/missing.js").status_code == 404
    assert client.get("/assets/..%2Findex.html").status_code == 404
    assert client.get("/elsewhere").status_code == 404


def test_an_unbuilt_app_is_a_404_that_says_so(tmp_path: Path) -> None:
    app = create_app(title="t", description="", readiness={})
    mount_web_app(app, tmp_path / "dist", [])
    response = TestClient(app).get("/")
    assert response.status_code == 404
    assert "not built" in response.json()["detail"]
