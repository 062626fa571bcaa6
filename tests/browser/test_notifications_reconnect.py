"""The page's reconnect loop against a server whose channel layer is down (it opens the socket and closes it at once).

The page runs the real ``static/js/notifications.js`` against a stand-in WebSocket and Playwright's fake clock, so 41
seconds of an outage take a moment: we count how often the page reconnects and what it shows meanwhile.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import NewPage
from tests.stack import ROOT

pytestmark = pytest.mark.browser

# A WebSocket that opens and then closes with 4013 (channel layer unavailable) while ``window.__down`` is true, and
# otherwise stays open until ``window.__dropAll()``.
FAKE_SOCKET = """
window.__connects = 0;
window.__down = true;
window.__open = [];
window.__dropAll = function () {
  var sockets = window.__open; window.__open = [];
  sockets.forEach(function (s) { s.readyState = 3; s.onclose && s.onclose({ code: 1006 }); });
};
function FakeSocket(url) {
  var self = this;
  window.__connects += 1;
  self.readyState = 0;
  setTimeout(function () {
    self.readyState = 1;
    self.onopen && self.onopen();
    if (window.__down) {
      setTimeout(function () { self.readyState = 3; self.onclose && self.onclose({ code: 4013 }); }, 5);
    } else {
      window.__open.push(self);
    }
  }, 5);
}
FakeSocket.OPEN = 1;
FakeSocket.prototype.send = function () {};
FakeSocket.prototype.close = function () {};
window.WebSocket = FakeSocket;
"""

PAGE = """<!doctype html><html><body><main id="main">
<div data-notifications data-last-seen="0">
  <a href="/notifications/">Upozornění <span data-notifications-count hidden>0</span></a>
  <span data-notifications-paused role="status" hidden>Živé aktualizace pozastaveny</span>
</div></main></body></html>"""


def _page(new_page: NewPage) -> Page:
    page = new_page()
    page.set_content(PAGE)
    page.clock.install()
    page.add_script_tag(content=FAKE_SOCKET)
    page.add_script_tag(path=str(ROOT / "static" / "js" / "notifications.js"))
    return page


def _connects(page: Page) -> int:
    return int(page.evaluate("window.__connects"))


def test_a_server_that_closes_at_once_is_retried_with_growing_delays(new_page: NewPage) -> None:
    page = _page(new_page)
    page.clock.run_for(41_000)
    # 1, 2, 4, 8, 16 s (each at least half of it): at most 7 attempts in 41 s — not one a second.
    assert 2 <= _connects(page) <= 7
    assert page.locator("[data-notifications-paused]").is_visible()


def test_the_backoff_starts_afresh_only_after_a_healthy_connection(new_page: NewPage) -> None:
    page = _page(new_page)
    page.clock.run_for(41_000)
    page.evaluate("window.__down = false")
    # The next attempt is at most a minute away (MAX_BACKOFF_MS); it connects and then stays open for STABLE_MS (30 s).
    page.clock.run_for(95_000)
    assert page.locator("[data-notifications-paused]").is_hidden()
    before = _connects(page)
    page.evaluate("window.__dropAll()")  # a healthy connection drops: the page is back within a second or so
    page.clock.run_for(1_100)
    assert _connects(page) == before + 1
