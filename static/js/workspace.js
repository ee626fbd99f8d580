// Live SLA badges: count down to the due time, amber from the warning time, red and
// counting up once breached. Times come from data attributes in ISO 8601 (UTC).
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
      if (next !== status && !(status === "breached")) {
        el.dataset.slaStatus = next;
        el.classList.remove("sla-active", "sla-warning", "sla-breached");
        el.classList.add("sla-" + next);
      }
      el.textContent = now >= due ? "overdue " + human(now - due) : human(due - now) + " left";
    });
  }

  function insertMacro(event) {
    var select = event.target;
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

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "macro-select") insertMacro(event);
  });
  tick();
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSwap", tick);
})();
