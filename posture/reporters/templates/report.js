/* posture report: client-side filter and sort.
   Reads the findings from the JSON data block and only shows, hides and reorders the table
   rows that the server rendered (escaped). It never builds HTML from strings: text goes in
   through textContent and option values; no markup is ever parsed from strings. */
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }

  var table = byId("findings");
  var dataEl = byId("posture-data");
  if (!table || !dataEl) { return; }
  var records = JSON.parse(dataEl.textContent).findings;
  var tbody = table.tBodies[0];
  var rowOf = {};
  var pathOf = {}; /* the full-width path diagram row drawn under a finding's row */
  Array.prototype.forEach.call(tbody.rows, function (tr) {
    if (tr.hasAttribute("data-path-for")) {
      pathOf[tr.getAttribute("data-path-for")] = tr;
    } else {
      rowOf[tr.getAttribute("data-i")] = tr;
    }
  });
  records.forEach(function (r) {
    r.hay = [r.check_id, r.title, r.resource_name, r.resource_uid, r.resource_type, r.account,
      r.region, r.message, r.status, r.severity, r.principles.join(" ")].join("\n").toLowerCase();
    r.where = r.account + "/" + r.region;
    r.resource = (r.resource_name || "") + "\n" + r.resource_uid;
  });

  var SELECTS = ["status", "severity", "principle", "control", "account", "region", "type"];
  var inputs = {
    status: byId("f-status"),
    severity: byId("f-severity"),
    principle: byId("f-principle"),
    control: byId("f-control"),
    account: byId("f-account"),
    region: byId("f-region"),
    type: byId("f-type"),
    q: byId("f-q")
  };
  var sortSelect = byId("f-sort");
  var newBox = byId("f-new");
  var countEl = byId("f-count");
  var noneEl = byId("f-none");
  var headers = table.querySelectorAll("button[data-sort]");

  /* column -> [record field, direction of the first click] */
  var SORTS = {
    severity: ["severity_rank", -1],
    status: ["status_rank", 1],
    check: ["check_id", 1],
    resource: ["resource", 1],
    where: ["where", 1],
    message: ["message", 1],
    type: ["resource_type", 1],
    account: ["account", 1],
    region: ["region", 1],
    control: ["control_key", 1],
    "new": ["new_rank", 1]
  };
  var sortKey = "";
  var sortDir = 1;

  function compare(a, b) {
    if (sortKey) {
      var field = SORTS[sortKey][0];
      var x = a[field];
      var y = b[field];
      if (x < y) { return -sortDir; }
      if (x > y) { return sortDir; }
    }
    return a.pos - b.pos;
  }

  function order() {
    records.slice().sort(compare).forEach(function (r) {
      tbody.appendChild(rowOf[r.i]);
      if (pathOf[r.i]) { tbody.appendChild(pathOf[r.i]); }
    });
    Array.prototype.forEach.call(headers, function (button) {
      var th = button.parentNode;
      var state = "none";
      if (button.getAttribute("data-sort") === sortKey) {
        state = sortDir > 0 ? "ascending" : "descending";
      }
      th.setAttribute("aria-sort", state);
    });
    var wanted = sortKey ? (sortDir < 0 ? "-" : "") + sortKey : "";
    sortSelect.value = wanted;
    if (sortSelect.selectedIndex < 0) {
      sortSelect.value = sortKey; /* same key, other direction */
      if (sortSelect.selectedIndex < 0) { sortSelect.value = ""; }
    }
  }

  function filter() {
    var status = inputs.status.value;
    var severity = inputs.severity.value;
    var principle = inputs.principle.value;
    var control = inputs.control.value;
    var account = inputs.account.value;
    var region = inputs.region.value;
    var type = inputs.type.value;
    var onlyNew = newBox.checked;
    var q = inputs.q.value.trim().toLowerCase();
    var shown = 0;
    records.forEach(function (r) {
      var ok = (!status || r.status === status) &&
        (!severity || r.severity === severity) &&
        (!principle || r.principles.indexOf(principle) >= 0) &&
        (!control || r.controls.indexOf(control) >= 0) &&
        (!account || r.account === account) &&
        (!region || r.region === region) &&
        (!type || r.resource_type === type) &&
        (!onlyNew || r["new"]) &&
        (!q || r.hay.indexOf(q) >= 0);
      rowOf[r.i].hidden = !ok;
      if (pathOf[r.i]) { pathOf[r.i].hidden = !ok; }
      if (ok) { shown += 1; }
    });
    countEl.textContent = "Showing " + shown + " of " + records.length + " findings";
    countEl.setAttribute("data-shown", String(shown));
    noneEl.hidden = shown !== 0;
  }

  function writeHash() {
    var parts = [];
    SELECTS.concat(["q"]).forEach(function (name) {
      var value = name === "q" ? inputs.q.value.trim() : inputs[name].value;
      if (value) { parts.push(name + "=" + encodeURIComponent(value)); }
    });
    if (newBox.checked) { parts.push("new=1"); }
    if (sortKey) {
      parts.push("sort=" + (sortDir < 0 ? "-" : "") + sortKey);
    }
    var url = location.pathname + location.search + (parts.length ? "#" + parts.join("&") : "");
    try { history.replaceState(null, "", url); } catch (e) { /* file:// may refuse */ }
  }

  function readHash() {
    var params = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (pair) {
      var at = pair.indexOf("=");
      if (at > 0) {
        try {
          params[pair.slice(0, at)] = decodeURIComponent(pair.slice(at + 1).replace(/\+/g, " "));
        } catch (e) { /* malformed escape: ignore that parameter */ }
      }
    });
    SELECTS.forEach(function (name) {
      var select = inputs[name];
      select.value = params[name] || "";
      if (select.selectedIndex < 0) { select.value = ""; } /* unknown value: show all */
    });
    inputs.q.value = params.q || "";
    newBox.checked = !newBox.disabled && params["new"] === "1";
    var sort = params.sort || "";
    var dir = sort.charAt(0) === "-" ? -1 : 1;
    sort = sort.replace(/^-/, "");
    if (Object.prototype.hasOwnProperty.call(SORTS, sort)) {
      sortKey = sort;
      sortDir = dir;
    } else {
      sortKey = "";
      sortDir = 1;
    }
    return Object.keys(params).length > 0;
  }

  function update() { filter(); writeHash(); }

  SELECTS.forEach(function (name) {
    inputs[name].addEventListener("change", update);
  });
  inputs.q.addEventListener("input", update);
  newBox.addEventListener("change", update);
  sortSelect.addEventListener("change", function () {
    var value = sortSelect.value;
    sortDir = value.charAt(0) === "-" ? -1 : 1;
    sortKey = value.replace(/^-/, "");
    if (!Object.prototype.hasOwnProperty.call(SORTS, sortKey)) { sortKey = ""; sortDir = 1; }
    order();
    writeHash();
  });
  byId("f-reset").addEventListener("click", function () {
    SELECTS.concat(["q"]).forEach(function (name) { inputs[name].value = ""; });
    newBox.checked = false;
    sortKey = "";
    sortDir = 1;
    order();
    update();
  });
  Array.prototype.forEach.call(headers, function (button) {
    button.addEventListener("click", function () {
      var key = button.getAttribute("data-sort");
      if (key === sortKey) {
        sortDir = -sortDir;
      } else {
        sortKey = key;
        sortDir = SORTS[key][1];
      }
      order();
      writeHash();
    });
  });
  window.addEventListener("hashchange", function () {
    readHash();
    order();
    filter();
    byId("findings-section").scrollIntoView();
  });

  /* printed, the details stay collapsed (the evidence is in findings.json): the print is the
     summaries, the failing rows and their path diagrams */

  if (readHash()) { order(); } /* the server already rendered the default order */
  filter();
  byId("filters").hidden = false;
  document.body.setAttribute("data-posture-ready", "true");
}());
