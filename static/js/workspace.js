// The workspace's behaviour, with no inline script (the pages run under a CSP):
// - live SLA badges: count down to the due time, amber from the warning time, red and
//   counting up once breached (times come from data attributes in ISO 8601, UTC);
// - the queue's 10 s refresh pauses while rows are ticked, and keeps focus and the
//   keyboard selection across the swap;
// - keys: "/" search, j/k move in a queue, Enter opens, Ctrl+Enter sends a reply;
// - macros fill the reply box.
(function () {
  "use strict";

  function human(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    var m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + "h " + String(m).padStart(2, "0") + "m";
    return m + "m " + String(sec).padStart(2, "0") + "s";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-sla-status][data-due-at]").forEach(function (el) {
      var status = el.dataset.slaStatus;
      if (status !== "active" && status !== "warning" && status !== "breached") return;
      var due = Date.parse(el.dataset.dueAt);
      var warn = el.dataset.warningAt ? Date.parse(el.dataset.warningAt) : null;
      var next;
      if (now >= due) next = "breached";
      else if (warn !== null && now >= warn) next = "warning";
      else next = "active";
      if (next !== status && status !== "breached") {
        el.dataset.slaStatus = next;
        el.classList.remove("sla-active", "sla-warning", "sla-breached");
        el.classList.add("sla-" + next);
      }
      // The metric label stays; only the time part counts.
      var time = el.querySelector("[data-sla-time]") || el;
      time.textContent = now >= due ? "overdue " + human(now - due) : human(due - now) + " left";
    });
  }

  function insertMacro(select) {
    if (!select.value) return;
    var textarea = select.form.querySelector("textarea[name=body]");
    fetch(select.dataset.macroUrl + select.value + "/", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (text) {
        var at = textarea.selectionStart || textarea.value.length;
        textarea.value = textarea.value.slice(0, at) + text + textarea.value.slice(at);
        textarea.focus();
        select.value = "";
      });
  }

  // --- queue selection (j/k) ----------------------------------------------------------
  var selectedId = null; // survives the rows' refresh: the tbody is replaced, not the page

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-rows tr[data-ticket-id]"));
  }

  function select(row, focus) {
    rows().forEach(function (r) {
      r.classList.toggle("is-selected", r === row);
      r.removeAttribute("aria-selected");
    });
    if (!row) { selectedId = null; return; }
    selectedId = row.dataset.ticketId;
    row.setAttribute("aria-selected", "true");
    if (focus) {
      var link = row.querySelector("[data-row-link]");
      if (link) link.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var current = all.findIndex(function (r) { return r.dataset.ticketId === selectedId; });
    var next = current === -1 ? (step > 0 ? 0 : all.length - 1)
      : Math.min(Math.max(current + step, 0), all.length - 1);
    select(all[next], true);
  }

  function restoreSelection() {
    if (selectedId === null) return;
    var row = document.getElementById("row-" + selectedId);
    if (row) select(row, false);
    else selectedId = null; // the ticket left the list (solved, moved)
  }

  // --- keys -----------------------------------------------------------------------------
  var NOT_TEXT = ["checkbox", "radio", "button", "submit", "reset"];

  function typing(target) {
    // Keys are text while the user writes (a ticked checkbox still lets j/k move).
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    if (tag === "input") return NOT_TEXT.indexOf((target.type || "").toLowerCase()) === -1;
    return tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      var form = target && target.closest ? target.closest("#reply-form") : null;
      if (form && target.tagName.toLowerCase() === "textarea") {
        event.preventDefault();
        // requestSubmit fires "submit", which htmx handles (hx-post), like the Send button.
        form.requestSubmit(document.getElementById("reply-send") || undefined);
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(target)) return;
    if (event.key === "/") {
      var search = document.getElementById("desk-search");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    } else if (event.key === "j" || event.key === "k") {
      if (!document.getElementById("queue-rows")) return;
      event.preventDefault();
      move(event.key === "j" ? 1 : -1);
    } else if (event.key === "Enter" && selectedId !== null) {
      // Focus on the row's link opens it natively; this covers focus elsewhere (the page).
      if (target && target.closest && target.closest("a, button")) return;
      var row = document.getElementById("row-" + selectedId);
      var link = row && row.querySelector("[data-row-link]");
      if (link) {
        event.preventDefault();
        window.location.assign(link.href);
      }
    }
  });

  document.addEventListener("focusin", function (event) {
    // Tabbing or clicking into a row selects it too, so j/k carry on from there.
    var row = event.target.closest && event.target.closest("#queue-rows tr[data-ticket-id]");
    if (row) select(row, false);
  });

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "macro-select") insertMacro(event.target);
  });

  // --- htmx -----------------------------------------------------------------------------
  var focusedId = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    // Polling would drop the ticks of a half-made bulk selection: wait until it is used.
    var elt = event.detail && event.detail.elt;
    if (elt && elt.id === "queue-rows" && elt.querySelector("input[type=checkbox]:checked")) {
      event.preventDefault();
    }
  });

  document.addEventListener("htmx:beforeSwap", function () {
    var active = document.activeElement;
    focusedId = active && active !== document.body && active.id ? active.id : null;
  });

  // htmx "settles" a swapped element that keeps its id by putting the server's class back
  // after a moment, so the selection is drawn again once settled.
  document.addEventListener("htmx:afterSettle", restoreSelection);

  document.addEventListener("htmx:afterSwap", function () {
    restoreSelection();
    // htmx restores focus to an element with the same id; this covers a swap that replaced
    // the focused element's container before htmx looked (and keeps the page from scrolling).
    if (focusedId && (document.activeElement === document.body || !document.activeElement)) {
      var again = document.getElementById(focusedId);
      if (again) again.focus({ preventScroll: true });
    }
    focusedId = null;
    tick();
  });

  tick();
  setInterval(tick, 1000);
})();
