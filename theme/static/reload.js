// Live reload for `mesa serve`: polls the server's build version and reloads the page when it
// changes. From file:// or a plain static host (no /__mesa/version) it does nothing.
(function () {
  "use strict";
  if (!/^https?:$/.test(location.protocol)) return;
  var seen = null;
  function poll() {
    fetch("/__mesa/version", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (v) {
        if (v === null) return;
        if (seen !== null && v !== seen) { location.reload(); return; }
        seen = v;
        setTimeout(poll, 400);
      }, function () { setTimeout(poll, 2000); });
  }
  poll();
})();
