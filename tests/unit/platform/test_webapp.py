"""A built single-page app on its API's origin: files as they are, index.html for the app's routes,
the API's paths left to the API, cache headers by kind of file, a CSP, and a plain answer unbuilt."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from paysaga.platform.problems import PROBLEM_MEDIA_TYPE
from paysaga.platform.webapp import IMMUTABLE, REVALIDATE, WebApp, mount_webapp

pytestmark = pytest.mark.unit

INDEX = '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>'


def client(dist: Path) -> TestClient:
    app = FastAPI()

    @app.get("/api/v1/things")
    async def things() -> list[str]:
        return ["a"]

    @app.post("/api/v1/login")
    async def login() -> dict[str, str]:
        return {"ok": "yes"}

    mount_webapp(app, WebApp(name="test app", dist=dist, api_prefixes=("/api/v1",), build_hint="run npm run build"))
    return TestClient(app)


@pytest.fixture
def built(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path.parent / "secret.txt").write_text("not served")
    return tmp_path


def test_the_app_s_routes_answer_index_html_revalidated_with_a_csp(built: Path) -> None:
    http = client(built)
    for path in ("/", "/payments/42", "/dead-letters?topic=x"):
        response = http.get(path)
        assert response.status_code == 200 and response.text == INDEX, path
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == REVALIDATE
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"


def test_hashed_assets_are_immutable_other_files_revalidated(built: Path) -> None:
    http = client(built)
    script = http.get("/assets/index-abc123.js")
    assert (script.status_code, script.text, script.headers["cache-control"]) == (200, "console.log(1)", IMMUTABLE)
    assert script.headers["content-type"].startswith("text/javascript")
    icon = http.get("/favicon.svg")
    assert (icon.status_code, icon.headers["cache-control"]) == (200, REVALIDATE)
    missing = http.get("/assets/index-gone.js")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM_MEDIA_TYPE


def test_the_api_keeps_its_paths_and_nothing_outside_the_folder_is_served(built: Path) -> None:
    http = client(built)
    assert http.get("/api/v1/things").json() == ["a"]
    assert http.get("/api/v1/nothing").status_code == 404
    assert http.get("/api/v1/login").status_code == 405  # not the page: the API answers
    assert http.post("/somewhere").status_code == 405
    escaped = http.get("/..%2fsecret.txt")
    assert escaped.status_code == 200 and escaped.text == INDEX


def test_unbuilt_the_app_answers_a_problem_saying_how_to_build_it(tmp_path: Path) -> None:
    http = client(tmp_path / "dist")
    response = http.get("/")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"] == "/problems/app-not-built" and body["detail"] == "run npm run build"
    assert http.get("/api/v1/things").json() == ["a"]
