// mesa: sortable and filterable tables, ticket filters, the phone menu and print buttons.
// Plain script, no globals, works from file://.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function fold(s) {
    return (s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // Phone menu.
  var toggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("mesa-nav");
  if (toggle && nav) {
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Print buttons.
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (b) {
    b.addEventListener("click", function () { window.print(); });
  });

  // Sortable tables: header buttons sort by the cell's data-value or text.
  function cellValue(row, i, kind) {
    var cell = row.cells[i];
    if (!cell) return kind === "num" ? 0 : "";
    var v = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
    if (kind === "num") { var n = parseFloat(v); return isNaN(n) ? -Infinity : n; }
    return fold(v);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, i) {
      var button = th.querySelector("button[data-sort]");
      if (!button) return;
      button.addEventListener("click", function () {
        var kind = button.getAttribute("data-sort");
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { if (h.querySelector("button[data-sort]")) h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, i, kind), y = cellValue(b, i, kind);
          var c = x < y ? -1 : x > y ? 1 : 0;
          return asc ? c : -c;
        });
        var frag = document.createDocumentFragment();
        rows.forEach(function (r) { frag.appendChild(r); });
        body.appendChild(frag);
      });
    });
  });

  // Filters: a text box and selects (data-column matches the row's data-<column>).
  function applyFilters(table, controls, counter) {
    var text = "", cols = [];
    controls.forEach(function (c) {
      var col = c.getAttribute("data-column");
      if (col) { if (c.value) cols.push([col, c.value]); } else { text = fold(c.value.trim()); }
    });
    var words = text ? text.split(/\s+/) : [];
    var shown = 0, rows = table.tBodies[0].rows;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i], ok = true;
      for (var j = 0; j < cols.length && ok; j++) ok = r.getAttribute("data-" + cols[j][0]) === cols[j][1];
      if (ok && words.length) {
        if (!r._text) r._text = fold(r.textContent);
        for (var k = 0; k < words.length && ok; k++) ok = r._text.indexOf(words[k]) >= 0;
      }
      r.hidden = !ok;
      if (ok) shown++;
    }
    if (counter) counter.textContent = shown + " / " + rows.length;
  }
  var groups = {};
  Array.prototype.forEach.call(document.querySelectorAll("[data-filter-table]"), function (c) {
    var id = c.getAttribute("data-filter-table");
    (groups[id] = groups[id] || []).push(c);
  });
  Array.prototype.forEach.call(document.querySelectorAll("form[data-ticket-filters]"), function (form) {
    var id = form.getAttribute("data-ticket-filters");
    groups[id] = Array.prototype.slice.call(form.querySelectorAll("select, input"));
    form.addEventListener("submit", function (e) { e.preventDefault(); });
  });
  Object.keys(groups).forEach(function (id) {
    var table = document.getElementById(id);
    if (!table) return;
    var controls = groups[id];
    var counter = document.querySelector('[data-count-for="' + id + '"]');
    // Filters can come in the address (tickets/index.html?status=analysis&sla=at_risk).
    var params = new URLSearchParams(location.search);
    controls.forEach(function (c) {
      var key = c.getAttribute("data-column") || c.name;
      if (key && params.has(key)) c.value = params.get(key);
      c.addEventListener("input", function () { applyFilters(table, controls, counter); });
      c.addEventListener("change", function () { applyFilters(table, controls, counter); });
    });
    applyFilters(table, controls, counter);
  });
})();
