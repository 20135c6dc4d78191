"""The HTML report in a real browser: headless Chromium shows it without errors or scripts.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`,
file descriptors 3 and 4, messages separated by NUL bytes): no driver, no
extra package, no port and no network. A control page first shows that the
harness does see a script running and a picture that does not decode.
"""

import fcntl
import json
import os
import select
import shutil
import subprocess
import time

import numpy as np
import pytest

import keras_explain as kx
from keras_explain import report

XSS = "<script>alert(1)</script>"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _chromium():
    return next((path for path in map(shutil.which, CHROMIUM_NAMES) if path), None)


pytestmark = pytest.mark.skipif(
    _chromium() is None,
    reason="Chromium is not installed: the Makefile's test setup installs Debian's chromium "
    "with apt-get when it runs as root; it could not here",
)


class Chromium:
    """Headless Chromium and a minimal DevTools-protocol client over its pipe."""

    def __init__(self, binary, profile):
        to_browser, from_browser = os.pipe(), os.pipe()

        def connect_pipe():  # in the child: Chromium reads fd 3 and writes fd 4
            read = fcntl.fcntl(to_browser[0], fcntl.F_DUPFD_CLOEXEC, 10)
            write = fcntl.fcntl(from_browser[1], fcntl.F_DUPFD_CLOEXEC, 10)
            os.dup2(read, 3)
            os.dup2(write, 4)

        command = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self.process = subprocess.Popen(
            command,
            preexec_fn=connect_pipe,
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser[0])
        os.close(from_browser[1])
        self.writer, self.reader = to_browser[1], from_browser[0]
        self.buffer, self.messages, self.events, self.last_id = b"", [], [], 0

    def _receive(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.reader], [], [], remaining)[0]:
            raise TimeoutError("Chromium did not answer in time")
        chunk = os.read(self.reader, 1 << 20)
        if not chunk:
            raise RuntimeError("Chromium closed the DevTools pipe")
        self.buffer += chunk
        while b"\0" in self.buffer:
            part, _, self.buffer = self.buffer.partition(b"\0")
            message = json.loads(part)
            self.messages.append(message)
            if "method" in message:
                self.events.append(message)

    def wait(self, predicate, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            for index, message in enumerate(self.messages):
                if predicate(message):
                    return self.messages.pop(index)
            self._receive(deadline)

    def send(self, method, params=None, session=None):
        self.last_id += 1
        message = {"id": self.last_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self.writer, json.dumps(message).encode("utf-8") + b"\0")
        wanted = self.last_id
        answer = self.wait(lambda m: m.get("id") == wanted)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def open(self, url, dialog=False):
        """Load `url` in a new tab; return (session, its events). Dialogs are accepted."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Page.navigate", {"url": url}, session)
        if dialog:
            self.wait(
                lambda m: m.get("method") == "Page.javascriptDialogOpening"
                and m.get("sessionId") == session
            )
            self.send("Page.handleJavaScriptDialog", {"accept": True}, session)
        self.wait(
            lambda m: m.get("method") == "Page.loadEventFired" and m.get("sessionId") == session
        )
        return session

    def evaluate(self, session, expression):
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"].get("text", "exception"))
        return result["result"].get("value")

    def events_of(self, session):
        # Drain what has arrived so far, then keep this tab's events.
        try:
            while select.select([self.reader], [], [], 0.2)[0]:
                self._receive(time.monotonic() + 1.0)
        except TimeoutError:
            pass
        self.messages = [m for m in self.messages if "id" in m]
        return [e for e in self.events if e.get("sessionId") == session]

    def close(self):
        try:
            os.write(self.writer, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        os.close(self.writer)
        os.close(self.reader)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Chromium(_chromium(), tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


def _problems(events, page_url):
    """Console errors, exceptions, dialogs and requests for anything but the page itself."""
    found = []
    for event in events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.exceptionThrown":
            found.append(("exception", params["exceptionDetails"].get("text")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in (
            "error",
            "warning",
            "assert",
        ):
            found.append(("console", params.get("args")))
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            found.append(("log", params["entry"].get("text")))
        elif method == "Page.javascriptDialogOpening":
            found.append(("dialog", params.get("message")))
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if url != page_url and not url.startswith("data:image/png;base64,"):
                found.append(("request", url))
    return found


_IMAGES = (
    "Promise.all(Array.from(document.images).map(image => image.decode().then("
    "() => [image.naturalWidth, image.naturalHeight], () => [0, 0])))"
)


@pytest.fixture(scope="module")
def report_page(tmp_path_factory, small_cnn, images):
    """A report with image cards (real and LIME-style), tabular cards and hostile strings."""
    root = tmp_path_factory.mktemp("browser")
    explained = kx.IntegratedGradients(small_cnn, steps=8).explain(images[:3])
    rng = np.random.default_rng(0)
    segments = np.repeat(np.arange(4).repeat(4)[None, :], 16, axis=0)[None].repeat(2, axis=0)
    lime_like = kx.Explanation(
        attributions=rng.normal(size=(2, 16, 16)).astype("float32"),
        inputs=rng.uniform(size=(2, 16, 16, 3)).astype("float32"),
        targets=[0, 2],
        predictions=rng.dirichlet(np.ones(3), size=2).astype("float32"),
        method="lime_image",
        config={"num_samples": 100},
        segments=segments,
        input_names=[XSS + ".png", 'a "quoted" & <b>bold</b>.png'],
    )
    table = kx.Explanation(
        attributions=rng.normal(size=(2, 5)).astype("float32"),
        inputs=rng.normal(size=(2, 5)).astype("float32"),
        targets=[1, 0],
        predictions=rng.dirichlet(np.ones(3), size=2).astype("float32"),
        method="saliency",
        config={},
        feature_names=[XSS, "b & c", '"d"', "<i>e</i>", "f"],
    )
    path = report.write_html(
        [explained, lime_like, table],
        root / "report.html",
        class_names=[XSS, "dog", "bird"],
        title=XSS,
    )
    return path, len(explained) * 2 + len(lime_like) * 2


def test_report_opens_without_errors_and_every_image_decodes(browser, report_page):
    path, count = report_page
    url = "file://" + os.path.abspath(path)
    session = browser.open(url)
    sizes = browser.evaluate(session, _IMAGES)
    assert len(sizes) == count
    assert all(width > 0 and height > 0 for width, height in sizes), sizes
    assert browser.evaluate(
        session, "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"
    )
    assert browser.evaluate(session, "document.querySelectorAll('article.card').length") == 7
    assert _problems(browser.events_of(session), url) == []


def test_hostile_names_run_no_script(browser, report_page):
    path, _ = report_page
    url = "file://" + os.path.abspath(path)
    session = browser.open(url)
    assert browser.evaluate(session, "document.scripts.length") == 0
    assert (
        browser.evaluate(session, "document.querySelectorAll('b > script, i, [onerror]').length")
        == 0
    )
    text = browser.evaluate(session, "document.body.innerText")
    assert text.count(XSS) >= 4  # title, class names, file name and feature name shown as text
    assert browser.evaluate(session, "document.title") == XSS
    assert [p for p in _problems(browser.events_of(session), url) if p[0] == "dialog"] == []


def test_the_harness_sees_scripts_and_broken_images(browser, tmp_path):
    control = tmp_path / "control.html"
    control.write_text(
        "<!doctype html><html><body><p>control</p>"
        '<img src="data:image/png;base64,bm90IGEgcG5n" alt="not a PNG">'
        '<img src="file:///nonexistent/keras-explain.png" alt="missing file">'
        f"{XSS}</body></html>"
    )
    url = "file://" + str(control)
    session = browser.open(url, dialog=True)
    assert browser.evaluate(session, _IMAGES) == [[0, 0], [0, 0]]
    problems = _problems(browser.events_of(session), url)
    assert ("dialog", "1") in problems
    assert ("request", "file:///nonexistent/keras-explain.png") in problems
    assert ("log", "Failed to load resource: net::ERR_FILE_NOT_FOUND") in problems
