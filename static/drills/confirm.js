/*
 * mamori: tells the drill server that a browser displayed this page (a person, not a link scanner).
 *
 * The beacon URL comes from a data-beacon attribute, on this script's own tag or on <body>:
 *   <script src="/static/drills/confirm.js" data-beacon="/cf/TOKEN" defer></script>
 * It is sent once, when the page is visible, with navigator.sendBeacon, fetch (keepalive) or
 * XMLHttpRequest, whichever the browser has; without any of them, or on any error, nothing happens.
 * No cookies are sent and nothing is read back. First-party, no inline code: the CSP stays strict.
 */
(function () {
  "use strict";

  function ownTag() {
    if (document.currentScript) {
      return document.currentScript;
    }
    // Old browsers without currentScript: the first script tag carrying a beacon.
    var scripts = document.getElementsByTagName("script");
    for (var i = 0; i < scripts.length; i++) {
      if (scripts[i].getAttribute("data-beacon")) {
        return scripts[i];
      }
    }
    return null;
  }

  var tag = ownTag();
  var beacon = tag && tag.getAttribute("data-beacon");
  var sent = false;

  function bodyBeacon() {
    return document.body ? document.body.getAttribute("data-beacon") : null;
  }

  function send() {
    var url = beacon || bodyBeacon();
    if (sent || !url) {
      return;
    }
    sent = true;
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(url)) {
        return;
      }
    } catch (error) {}
    try {
      if (window.fetch) {
        window.fetch(url, { method: "POST", keepalive: true, credentials: "omit", cache: "no-store" })["catch"](
          function () {}
        );
        return;
      }
    } catch (error) {}
    try {
      var request = new XMLHttpRequest();
      request.open("POST", url, true);
      request.send();
    } catch (error) {}
  }

  function sendWhenVisible() {
    // A page prerendered or opened in a background tab is not yet seen by anyone.
    if (document.visibilityState === "hidden") {
      document.addEventListener("visibilitychange", function onVisible() {
        if (document.visibilityState !== "hidden") {
          document.removeEventListener("visibilitychange", onVisible);
          send();
        }
      });
      return;
    }
    send();
  }

  try {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", sendWhenVisible);
    } else {
      sendWhenVisible();
    }
  } catch (error) {}
})();
