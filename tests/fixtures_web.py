"""Fixtures for the web console: keys of every role, a signed-in test client, and a
live server (uvicorn in a thread) driving Debian's Chromium through Playwright.

The live server runs against a private copy of the API tests' demo bundle
(``tests.fixtures_api.api_demo_bundle``: the small demo store, its index and a model
trained once per session by the real ``training.pipeline.train``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from recsvc.auth import create_key
from recsvc.config import Settings
from recsvc.registry import Registry
from recsvc.runtime import Runtime
from recsvc.store import Database
from recsvc.store.enums import ClientKind, Role
from recsvc.store.models import Client, Commission, Contact

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
#: A "training job" that runs a few seconds and exits without finishing, so the page can
#: watch it go from queued to failed.
SLOW_NO_TRAINING = (sys.executable, "-c", "import time; time.sleep(4)")
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Keys:
    """One secret per role, the portal token bound to client ``C001``."""

    librarian: str
    analyst: str
    admin: str
    portal: str
    portal_client: str = "C001"


def make_keys(db: Database, portal_client: str) -> Keys:
    """Create a key of every role in ``db``."""
    return Keys(
        librarian=create_key(db, "lib-wang", Role.LIBRARIAN)[1],
        analyst=create_key(db, "ana-li", Role.ANALYST)[1],
        admin=create_key(db, "adm-zhao", Role.ADMIN)[1],
        portal=create_key(db, "portal-c", Role.PORTAL, portal_client)[1],
        portal_client=portal_client,
    )


def csrf_of(html: str) -> str:
    """The CSRF token embedded in a rendered page."""
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client: TestClient, secret: str) -> TestClient:
    """Sign ``client`` in through the form, as a person would."""
    page = client.get("/console/login")
    resp = client.post(
        "/console/login",
        data={"key": secret, "csrf_token": csrf_of(page.text), "next": ""},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    return client


def populate_small_store(db: Database) -> Database:
    """Two clients, a contact and two commissions (no model)."""
    with db.session() as s:
        a = Client(
            external_id="C001",
            name_zh="华东生物疫苗有限公司",
            name_en="East China Bio-Vaccine Co.",
            kind=ClientKind.ENTERPRISE,
            industry_field="农业",
            account_manager="王老师",
        )
        b = Client(
            external_id="C002",
            name_zh="城南环保科技",
            name_en="Chengnan Environmental",
            kind=ClientKind.ENTERPRISE,
            industry_field="环保",
            account_manager="李老师",
        )
        s.add_all([a, b])
        s.flush()
        s.add(Contact(external_id="P1", client_id=a.id, name="张三", phone="13800000000"))
        s.add_all(
            [
                Commission(
                    external_id="K1",
                    client_id=a.id,
                    title_zh="猪瘟疫苗佐剂研究",
                    title_en="Adjuvants for swine fever vaccines",
                    commissioned_on=dt.date(2024, 3, 1),
                ),
                Commission(
                    external_id="K2",
                    client_id=b.id,
                    title_zh="农村污水 MBBR 工艺",
                    title_en="MBBR for village sewage",
                    commissioned_on=dt.date(2024, 5, 1),
                ),
            ]
        )
    return db


@pytest.fixture
def small_store(db: Database) -> Database:
    """A migrated store with two clients, a contact and two commissions (no model)."""
    return populate_small_store(db)


@pytest.fixture
def web_keys(small_store: Database) -> Keys:
    return make_keys(small_store, "C001")


@pytest.fixture
def web_app(settings: Settings, small_store: Database) -> Iterator[TestClient]:
    """The whole app (API + console) over the small store, not signed in."""
    from api.app import create_app

    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        yield client


# -- a live server and a real browser -------------------------------------------------

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class LiveServer:
    """The real app served by uvicorn on a loopback port, in a background thread."""

    base_url: str
    settings: Settings
    db: Database
    keys: Keys
    server: uvicorn.Server
    thread: threading.Thread

    def url(self, path: str) -> str:
        return self.base_url + path

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def start_live_server(
    settings: Settings, db: Database, keys: Keys, runtime: Runtime | None = None
) -> LiveServer:
    """Serve ``create_app(settings, runtime)`` on a free loopback port (the socket is
    bound first, so there is no race for the port)."""
    from api.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings, runtime),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    return LiveServer(f"http://127.0.0.1:{port}", settings, db, keys, server, thread)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; in CI its absence fails the browser tests, locally it skips."""
    path = Settings().chromium_path
    if not Path(path).is_file():
        message = (
            f"Debian's chromium is not installed at {path}: run `make chromium` "
            "(apt-get install chromium fonts-noto-cjk)"
        )
        if IN_CI:
            pytest.fail(f"browser tests must run in CI. {message}")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    """One headless Chromium for the session (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page per test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def browser_sign_in(page: Page, live: LiveServer, secret: str) -> None:
    """Sign in through the form, as a person would."""
    page.goto(live.url("/console/login"))
    page.get_by_label(re.compile("API")).fill(secret)
    page.locator("form[action$='/login'] button[type=submit]").click()
    page.wait_for_load_state()


@pytest.fixture(scope="session")
def live_small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server over the small store, no model trained (fast UI checks)."""
    from tests.conftest import make_settings

    tmp = tmp_path_factory.mktemp("web-live-small")
    settings = make_settings(tmp)
    database = Database.from_settings(settings)
    database.upgrade()
    populate_small_store(database)
    live = start_live_server(settings, database, make_keys(database, "C001"))
    yield live
    live.stop()
    database.dispose()


@dataclass
class DemoLive:
    """The live server over the demo store with a trained model, and what tests need."""

    live: LiveServer
    runtime: Runtime
    champion: str
    challenger: str


def _copy_version(settings: Settings, source: str) -> str:
    """A second registered version with the same artifacts (a challenger to promote)."""
    registry = Registry(settings.models_dir)
    version, folder = registry.create(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    shutil.copytree(registry.path(source), folder, dirs_exist_ok=True)
    meta = registry.meta(source)
    meta.pop("version", None)
    registry.write_meta(version, meta)
    return version


@pytest.fixture(scope="session")
def web_demo(api_demo_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoLive]:
    """A private copy of the API tests' demo bundle (the small demo store, its
    ``FakeEmbedder`` index and the version ``training.pipeline.train`` produced once per
    session), served live; plus a copy of that version as a challenger to promote.
    Training jobs started from the page run :data:`SLOW_NO_TRAINING`, never a training."""
    from tests.fixtures_api import open_demo

    settings, runtime = open_demo(
        api_demo_bundle, tmp_path_factory.mktemp("web-demo"), job_argv=SLOW_NO_TRAINING
    )
    champion = Registry(settings.models_dir).active()
    assert champion is not None
    challenger = _copy_version(settings, champion)
    with runtime.db.session() as s:
        portal_client = s.scalar(select(Client.external_id).order_by(Client.id).limit(1))
    keys = make_keys(runtime.db, str(portal_client))
    live = start_live_server(settings, runtime.db, keys, runtime=runtime)
    yield DemoLive(live, runtime, champion, challenger)
    live.stop()
    runtime.close()
