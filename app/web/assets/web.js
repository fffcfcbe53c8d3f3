// stagegate's run page: follows the selected action's log and the
// stages' states over server-sent events, and highlights a search's
// matches. Everything it adds is text (textContent), never HTML.
"use strict";
(function () {
  var log = document.getElementById("log");
  var lines = document.getElementById("lines");
  var live = document.getElementById("live");
  var maxLines = 5000;

  function highlight() {
    var q = document.getElementById("q");
    if (!q || !q.value || !lines) return;
    var needle = q.value.toLowerCase();
    lines.querySelectorAll(".ln").forEach(function (ln) {
      var t = ln.querySelector(".t");
      if (t && t.textContent.toLowerCase().indexOf(needle) >= 0) ln.classList.add("hit");
    });
  }

  function setState(el, s) {
    if (!el) return;
    el.className = el.className.replace(/\bst-[a-z]+\b/, "st-" + s.k);
    var icon = el.querySelector(".icon"), word = el.querySelector(".word"), dur = el.querySelector(".dur");
    if (icon) icon.textContent = s.i;
    if (word) word.textContent = s.w;
    if (dur) dur.textContent = s.d;
  }

  function applyStates(list) {
    var nodes = document.querySelectorAll("[data-node]");
    if (nodes.length !== list.length) { return; }
    nodes.forEach(function (el) { setState(el, list[+el.getAttribute("data-node")]); });
    document.querySelectorAll("[data-mirror]").forEach(function (el) {
      setState(el, list[+el.getAttribute("data-mirror")]);
    });
    var d = document.querySelector("[data-dur]");
    if (d && list[0]) d.textContent = list[0].d;
  }

  function lineEl(l) {
    var frag = document.createDocumentFragment();
    if (l.m) {
      var m = document.createElement("div");
      m.className = "mark";
      m.textContent = l.m;
      frag.appendChild(m);
    }
    var div = document.createElement("div");
    div.className = "ln s-" + String(l.s).replace(/[^a-z]/g, "");
    div.id = "L" + l.n;
    var a = document.createElement("a");
    a.className = "n";
    a.href = "#L" + l.n;
    a.textContent = String(l.n);
    var t = document.createElement("span");
    t.className = "t";
    (l.g || []).forEach(function (seg) {
      if (seg.c) {
        var s = document.createElement("span");
        s.className = seg.c;
        s.textContent = seg.t;
        t.appendChild(s);
      } else {
        t.appendChild(document.createTextNode(seg.t));
      }
    });
    div.appendChild(a);
    div.appendChild(t);
    frag.appendChild(div);
    return frag;
  }

  function follow(url) {
    if (!window.EventSource) return;
    var es = new EventSource(url);
    es.addEventListener("state", function (e) { applyStates(JSON.parse(e.data)); });
    es.addEventListener("lines", function (e) {
      var atBottom = lines.scrollHeight - lines.scrollTop - lines.clientHeight < 40 ||
        window.innerHeight + window.scrollY >= document.body.offsetHeight - 40;
      var batch = JSON.parse(e.data);
      batch.forEach(function (l) { lines.appendChild(lineEl(l)); });
      // The page keeps the latest lines only: a long log followed for
      // hours must not grow the page without bound.
      var shown = lines.querySelectorAll(".ln");
      for (var i = 0; i < shown.length - maxLines; i++) shown[i].remove();
      var count = document.getElementById("count");
      if (count && batch.length) {
        var last = batch[batch.length - 1].n;
        var first = lines.querySelector(".ln .n");
        count.textContent = "lines " + (first ? first.textContent : last) + "–" + last + " of " + last;
      }
      if (atBottom) window.scrollTo(0, document.body.scrollHeight);
    });
    es.addEventListener("logend", function () {
      if (live) live.textContent = "";
    });
    es.addEventListener("end", function () {
      es.close();
      if (live) live.textContent = "";
    });
  }

  highlight();
  var run = document.getElementById("run");
  var unfinished = document.querySelector("[data-node='0']:not(.st-success):not(.st-failure):not(.st-cancelled):not(.st-skipped)");
  if (log && lines && log.getAttribute("data-live")) {
    // The selected action's new lines, from the last one shown.
    follow(log.getAttribute("data-events") + "&after=" + encodeURIComponent(log.getAttribute("data-last") || "0.0"));
  } else if (run && unfinished) {
    follow(run.getAttribute("data-events"));
  }
})();
