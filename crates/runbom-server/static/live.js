// Live updates without reload: on every server-sent `change`, fetch this page again and swap
// the main content. The fetched HTML was rendered (and escaped) by the server; it is parsed
// into an inert document, so nothing in it runs.
"use strict";
(function () {
  const indicator = document.getElementById("live");
  let pending = false;
  let again = false;

  async function refresh() {
    if (pending) { again = true; return; }
    pending = true;
    try {
      const response = await fetch(window.location.href, { headers: { "Accept": "text/html" } });
      if (response.ok) {
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = doc.getElementById("content");
        const current = document.getElementById("content");
        if (fresh && current) {
          current.replaceChildren(...Array.from(fresh.childNodes).map((n) => document.importNode(n, true)));
          document.body.dataset.updated = String(Date.now());
        }
      }
    } finally {
      pending = false;
      if (again) { again = false; refresh(); }
    }
  }

  const source = new EventSource("/api/v1/events");
  source.addEventListener("open", () => indicator && indicator.classList.add("on"));
  source.addEventListener("error", () => indicator && indicator.classList.remove("on"));
  source.addEventListener("change", () => { refresh(); });
})();
