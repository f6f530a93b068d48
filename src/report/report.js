(function () {
  "use strict";
  var all = function (sel) { return Array.prototype.slice.call(document.querySelectorAll(sel)); };
  var names = function (sel) {
    return all(sel).map(function (e) { return (e.getAttribute("data-name") || "").toLowerCase(); });
  };
  var T = names("#matrix tbody th[data-name]");
  var S = names("#matrix thead th[data-name]");
  function apply() {
    var q = document.getElementById("q").value.trim().toLowerCase();
    var on = {};
    all(".f-class").forEach(function (c) { on[c.value] = c.checked; });
    var hit = function (t, s) { return !q || (T[t] || "").indexOf(q) >= 0 || (S[s] || "").indexOf(q) >= 0; };
    var rows = T.map(function () { return false; });
    var cols = S.map(function () { return false; });
    all("#matrix td.cell").forEach(function (td) {
      var t = +td.getAttribute("data-t"), s = +td.getAttribute("data-s");
      td.classList.toggle("dim", on[td.getAttribute("data-class")] === false);
      if (hit(t, s)) { rows[t] = true; cols[s] = true; }
    });
    all("#matrix tbody tr").forEach(function (tr) { tr.hidden = !rows[+tr.getAttribute("data-t")]; });
    all("#matrix [data-s]").forEach(function (e) { e.hidden = !cols[+e.getAttribute("data-s")]; });
    all("details.run").forEach(function (d) {
      var t = d.getAttribute("data-t"), s = d.getAttribute("data-s");
      d.hidden = on[d.getAttribute("data-class")] === false || !hit(+t, +s);
    });
  }
  // The run a link or the URL's fragment points at moves under the matrix (a comment
  // marks its place in the list, where it goes back when another run is shown).
  var focus = document.getElementById("focus"), shown = null, mark = null;
  function show(run) {
    if (shown === run) { return; }
    if (shown) { mark.parentNode.replaceChild(shown, mark); }
    mark = document.createComment("run");
    run.parentNode.replaceChild(mark, run);
    focus.appendChild(run);
    shown = run;
    all("#matrix td.sel").forEach(function (td) { td.classList.remove("sel"); });
    var cell = document.querySelector('#matrix td[data-run="' + run.id.slice(1) + '"]');
    if (cell) { cell.classList.add("sel"); }
  }
  // `#r12` (a cell's link) opens run 12 and scrolls to it; `#open=r12` opens it under the
  // matrix without scrolling (a link that shows the matrix and one run's details at once).
  function openHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    var still = id.indexOf("open=") === 0;
    if (still) { id = id.slice(5); }
    var e = id && document.getElementById(id);
    if (!e) { return; }
    var run = e.closest("details.run");
    if (run) { show(run); }
    for (var p = e; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") { p.open = true; p.hidden = false; }
    }
    if (!still) { e.scrollIntoView({ block: "nearest" }); }
  }
  document.getElementById("filter-form").addEventListener("submit", function (ev) { ev.preventDefault(); });
  all(".f-class").forEach(function (c) { c.addEventListener("change", apply); });
  document.getElementById("q").addEventListener("input", apply);
  window.addEventListener("hashchange", openHash);
  openHash();
  document.documentElement.setAttribute("data-ready", "1");
})();
