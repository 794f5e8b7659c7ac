"""The report in a real headless browser (Debian's chromium): loads without console errors or network
requests, renders (the screenshot is not blank), and hostile user strings stay text."""

import http.server
import shutil
import subprocess
import threading
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import tabxai as tx

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; "
                                                           ".ci/run installs it)"), pytest.mark.slow]

EVIL_COLUMN = "<img src=x onerror=alert(1)>"
EVIL_CATEGORY = "</script>"


class _Recorder(http.server.BaseHTTPRequestHandler):
    """A proxy that records every request the browser makes and answers none of them."""

    requests = []

    def _refuse(self):
        type(self).requests.append(f"{self.command} {self.path}")
        self.send_error(502)

    do_GET = do_POST = do_HEAD = do_CONNECT = _refuse

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def proxy():
    _Recorder.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def _chromium(page, tmp_path, proxy, *extra):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
               f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
               f"--proxy-server=http://127.0.0.1:{proxy.server_address[1]}", "--proxy-bypass-list=<-loopback>",
               *extra, page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    return done.stdout, done.stderr


# chromium's own services (update checks, network time) talk to Google whatever the page does
_BROWSER_SERVICES = (".google.com", ".googleapis.com", ".gvt1.com")


def _page_requests():
    """Recorded requests except chromium's own service traffic."""
    from urllib.parse import urlsplit

    pages = []
    for request in _Recorder.requests:
        method, target = request.split(" ", 1)
        host = target.rsplit(":", 1)[0] if method == "CONNECT" else (urlsplit(target).hostname or "")
        if not ("." + host).endswith(_BROWSER_SERVICES):
            pages.append(request)
    return pages


def _console_messages(stderr):
    return [line for line in stderr.splitlines() if "CONSOLE" in line]


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    X = pd.DataFrame({EVIL_COLUMN: rng.normal(size=150),
                      "kind": pd.Categorical(rng.choice([EVIL_CATEGORY, "plain"], 150))})
    y = np.where(X[EVIL_COLUMN] + (X["kind"] == "plain") + rng.normal(size=150) > 0.5, "bad", "good")
    encode = ColumnTransformer([("kind", OneHotEncoder(), ["kind"])], remainder="passthrough")
    model = make_pipeline(encode, LogisticRegression()).fit(X, y)
    report = tx.audit(model, X, y, sensitive=["kind"], positive="bad", favorable="good", n_background=5,
                      n_coalitions=4, n_explained=20, n_repeats=2, n_bootstrap=20, max_applicants=4)
    path = tmp_path_factory.mktemp("report") / "audit.html"
    report.save(path)
    return path


def test_report_loads_without_console_errors_or_network_requests(hostile_report, tmp_path, proxy):
    _Recorder.requests = []
    dom, stderr = _chromium(hostile_report, tmp_path, proxy, "--dump-dom")
    assert "Principal reasons per adverse decision" in dom
    assert _console_messages(stderr) == []
    assert _page_requests() == [], _page_requests()
    parsed = _Elements()
    parsed.feed(dom)
    # the hostile strings are text, never elements or attributes
    assert not any(tag == "img" and attrs.get("src") == "x" for tag, attrs in parsed.tags)
    assert not any("onerror" in attrs for _, attrs in parsed.tags)
    assert not any(tag == "script" for tag, _ in parsed.tags)
    text = "".join(parsed.text)
    assert EVIL_COLUMN in text and EVIL_CATEGORY in text
    images = [attrs["src"] for tag, attrs in parsed.tags if tag == "img"]
    assert len(images) >= 4 and all(src.startswith("data:image/png;base64,") for src in images)


def test_the_checks_detect_console_errors_and_requests(tmp_path, proxy):
    """Positive control: a page that logs an error and asks the network is caught by both checks."""
    page = tmp_path / "bad.html"
    page.write_text('<html><body><img src="http://example.invalid/pixel.png">'
                    '<script>console.error("broken")</script></body></html>')
    _Recorder.requests = []
    _, stderr = _chromium(page, tmp_path, proxy, "--dump-dom")
    assert any("broken" in line for line in _console_messages(stderr))
    assert any("example.invalid" in request for request in _page_requests())


def test_screenshot_is_not_blank(hostile_report, tmp_path, proxy):
    from matplotlib.image import imread

    shot = tmp_path / "shot.png"
    _chromium(hostile_report, tmp_path, proxy, f"--screenshot={shot}", "--window-size=1000,1400",
              "--hide-scrollbars")
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (1400, 1000)
    not_white = (pixels < 0.95).any(axis=2).mean()
    assert 0.02 < not_white < 0.9 and pixels.std() > 0.05
