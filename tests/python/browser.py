"""Headless Chromium driven over the DevTools protocol, for the report's browser test.

Chromium runs with a fresh profile and everything that phones home switched off; the test
records every request a page makes, every console error and uncaught exception, and can
count elements and take screenshots. websocket-client is the only dependency: no driver
binary, no browser download.
"""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import websocket

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1280,900",
]


@dataclass
class Visit:
    url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Browser:
    def __init__(self, executable: str = "chromium", timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.TemporaryDirectory(prefix="c360-chromium-")
        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile.name}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = Path(self.profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"{executable} did not open its DevTools port")
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        self.socket = websocket.create_connection(
            f"ws://127.0.0.1:{port}{path}", timeout=timeout, suppress_origin=True
        )
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=1280,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )

    def call(self, method: str, session: bool = False, **params) -> dict:
        message = {"id": next(self.ids), "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv())
            if reply.get("id") == message["id"]:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _pump(self, seconds: float) -> None:
        """Collect events for `seconds`."""
        self.socket.settimeout(0.2)
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                try:
                    self.events.append(json.loads(self.socket.recv()))
                except websocket.WebSocketTimeoutException:
                    continue
        finally:
            self.socket.settimeout(self.timeout)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", session=True, expression=expression)
        return result["result"].get("value")

    def visit(self, url: str, until: str | None = None, settle: float = 1.0) -> Visit:
        """Open `url` and wait for its load event, then until the JavaScript expression
        `until` is true (charts draw asynchronously after load), then `settle` seconds more;
        what the page requested and logged meanwhile."""
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not load")
            self._pump(0.2)
        while until is not None and not self.evaluate(until):
            if time.monotonic() > deadline:
                break  # the caller's own assertion says what is missing
            self._pump(0.2)
        self._pump(settle)
        visit = Visit(url)
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                visit.requests.append(params["request"]["url"])
            elif method == "Runtime.consoleAPICalled" and params["type"] in {"error", "assert"}:
                visit.errors.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                )
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                visit.errors.append(
                    details.get("exception", {}).get("description", details.get("text"))
                )
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                visit.errors.append(f"{params['entry']['source']}: {params['entry']['text']}")
        return visit

    def screenshot(self, path: Path, full_page: bool = False, scale: float = 1.0) -> Path:
        params: dict = {"format": "png"}
        if full_page or scale != 1.0:
            size = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
            height = size["height"] if full_page else min(size["height"], 900)
            params |= {
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": height, "scale": scale},
                "captureBeyondViewport": full_page,
            }
        data = self.call("Page.captureScreenshot", session=True, **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        if getattr(self, "socket", None) is not None:
            self.socket.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
