// mesa: offline search. The index is a set of scripts that assign to window.MESA_SEARCH
// (fetch() does not work from file://): search/pages.js for the knowledge base, and, in the
// internal build, search/t/index.js (which shards exist), search/t/<xy>.js shards of ticket
// terms and search/t/docs-<n>.js, loaded only for the terms of the query. Terms are folded and stemmed exactly as mesa does.
(function () {
  "use strict";
  var cfg = document.getElementById("mesa-search-config");
  if (!cfg || !window.MESA_SEARCH) return;
  var root = cfg.getAttribute("data-root") || "";
  var chunk = parseInt(cfg.getAttribute("data-chunk"), 10) || 1000;
  var hasTickets = cfg.getAttribute("data-tickets") === "1";
  var input = document.getElementById("mesa-search-q");
  var form = document.getElementById("mesa-search-form");
  var status = document.getElementById("mesa-search-status");
  var list = document.getElementById("mesa-search-results");
  var S = window.MESA_SEARCH;
  var loaded = {};

  function fold(s) { return (s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }
  function stem(w) {
    if (w.length > 3 && w.charAt(w.length - 1) === "s") w = w.slice(0, -1);
    if (w.length > 3 && w.charAt(w.length - 1) === "e" && "lnrdjz".indexOf(w.charAt(w.length - 2)) >= 0) w = w.slice(0, -1);
    return w;
  }
  function terms(q) {
    return fold(q).split(/[^\p{L}\p{N}]+/u).filter(function (w) { return Array.from(w).length >= 2; }).map(stem);
  }
  // The shard of a term: its first two letters, or three where mesa split a big shard
  // (search/t/index.js lists those); a two-letter term of a split shard is in "xy-".
  function key(t, n) {
    return Array.from(t).slice(0, n).map(function (c) { return /[a-z0-9]/.test(c) ? c : "_"; }).join("");
  }
  function shard(t) {
    var two = key(t, 2);
    if ((S.ticketSplit || []).indexOf(two) < 0) return two;
    return Array.from(t).length >= 3 ? key(t, 3) : two + "-";
  }
  function load(src) {
    if (loaded[src]) return loaded[src];
    loaded[src] = new Promise(function (resolve) {
      var s = document.createElement("script");
      s.src = root + src;
      s.onload = resolve;
      s.onerror = resolve; // a shard that does not exist: no ticket has such a term
      document.head.appendChild(s);
    });
    return loaded[src];
  }
  // Scores of documents matching every term (exact term, or a longer term it begins).
  function score(index, qterms) {
    var total = null;
    qterms.forEach(function (q, qi) {
      var found = {};
      var keys = index[q] ? [q] : [];
      if (q.length >= 3) {
        for (var k in index) if (k !== q && k.lastIndexOf(q, 0) === 0) keys.push(k);
      }
      keys.forEach(function (k) {
        var list = index[k], exact = k === q ? 1 : 0.6;
        for (var i = 0; i < list.length; i += 2) {
          var d = list[i], w = list[i + 1] * exact;
          if (!found[d] || found[d] < w) found[d] = w;
        }
      });
      if (total === null) { total = found; return; }
      var next = {};
      for (var d in total) if (found[d]) next[d] = total[d] + found[d];
      total = next;
    });
    return total || {};
  }
  function snippet(text, qterms) {
    if (!text) return "";
    var chars = Array.from(text), folded = "", map = [];
    chars.forEach(function (c, i) { var f = fold(c); for (var j = 0; j < f.length; j++) { folded += f.charAt(j); map.push(i); } });
    var at = -1, len = 0;
    qterms.forEach(function (q) { var p = folded.indexOf(q); if (p >= 0 && (at < 0 || p < at)) { at = p; len = q.length; } });
    var start = at < 0 ? 0 : Math.max(0, map[at] - 60);
    var end = Math.min(chars.length, (at < 0 ? 0 : map[at]) + 140);
    var frag = document.createDocumentFragment();
    if (start > 0) frag.appendChild(document.createTextNode("… "));
    if (at >= 0) {
      var hs = map[at], he = map[Math.min(at + len, map.length) - 1] + 1;
      frag.appendChild(document.createTextNode(chars.slice(start, hs).join("")));
      var m = document.createElement("mark"); m.textContent = chars.slice(hs, he).join(""); frag.appendChild(m);
      frag.appendChild(document.createTextNode(chars.slice(he, end).join("")));
    } else {
      frag.appendChild(document.createTextNode(chars.slice(start, end).join("")));
    }
    if (end < chars.length) frag.appendChild(document.createTextNode(" …"));
    return frag;
  }
  function render(results, qterms) {
    list.textContent = "";
    results.slice(0, 100).forEach(function (r) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.className = "r-title"; a.href = root + r.url; a.textContent = r.title;
      var kind = document.createElement("span");
      kind.className = "badge r-kind"; kind.textContent = r.kind;
      var p = document.createElement("p");
      p.className = "r-snippet"; p.appendChild(snippet(r.text, qterms) || document.createTextNode(""));
      li.appendChild(a); li.appendChild(kind); li.appendChild(p);
      list.appendChild(li);
    });
    var msg = results.length ? cfg.getAttribute("data-msg-count").replace("{n}", results.length) : cfg.getAttribute("data-msg-none");
    status.textContent = msg;
  }
  var seq = 0;
  function run(q) {
    var my = ++seq;
    var qterms = terms(q);
    if (!qterms.length) { list.textContent = ""; status.textContent = q.trim() ? cfg.getAttribute("data-msg-short") : ""; return; }
    var results = [];
    var pages = S.pages || { docs: [], terms: {} };
    var sc = score(pages.terms, qterms);
    Object.keys(sc).forEach(function (d) {
      var doc = pages.docs[d];
      results.push({ url: doc[0], title: doc[1], kind: doc[2], text: doc[3], score: sc[d] + 0.5 });
    });
    results.sort(function (a, b) { return b.score - a.score || (a.title < b.title ? -1 : 1); });
    render(results, qterms);
    if (!hasTickets) return;
    status.textContent = cfg.getAttribute("data-msg-loading");
    var shards = {};
    load("search/t/index.js").then(function () {
      var exists = S.ticketShards || [];
      qterms.forEach(function (t) { var s = shard(t); if (exists.indexOf(s) >= 0) shards[s] = 1; });
      return Promise.all(Object.keys(shards).map(function (s) { return load("search/t/" + s + ".js"); }));
    }).then(function () {
      if (my !== seq) return;
      var index = {};
      Object.keys(shards).forEach(function (s) {
        var part = (S.tickets || {})[s] || {};
        for (var k in part) index[k] = part[k];
      });
      var ts = score(index, qterms);
      var ids = Object.keys(ts).sort(function (a, b) { return ts[b] - ts[a] || a - b; }).slice(0, 100);
      var chunks = {};
      ids.forEach(function (d) { chunks[Math.floor(d / chunk)] = 1; });
      return Promise.all(Object.keys(chunks).map(function (c) { return load("search/t/docs-" + c + ".js"); })).then(function () {
        if (my !== seq) return;
        ids.forEach(function (d) {
          var c = (S.ticketDocs || {})[Math.floor(d / chunk)];
          var doc = c && c[d % chunk];
          if (doc) results.push({ url: doc[0], title: doc[1], kind: doc[2], text: doc[3], score: ts[d] });
        });
        results.sort(function (a, b) { return b.score - a.score || (a.title < b.title ? -1 : 1); });
        render(results, qterms);
      });
    });
  }
  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { run(input.value); }, 120);
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    run(input.value);
    try { history.replaceState(null, "", "?q=" + encodeURIComponent(input.value)); } catch (err) { /* file:// may refuse */ }
  });
  var q = new URLSearchParams(location.search).get("q");
  if (q) { input.value = q; run(q); }
})();
