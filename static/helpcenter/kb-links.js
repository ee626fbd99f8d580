// Ticket page: "Insert link" from the knowledge-base search puts a Markdown link to the
// article at the cursor of the reply box. Without JavaScript the links are shown to copy.
(function () {
  "use strict";
  // The panel is re-rendered with the ticket after every change (htmx); listen once.
  if (window.kbLinksReady) return;
  window.kbLinksReady = true;
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".kb-insert") : null;
    if (!button) return;
    var box = document.querySelector("#reply-form textarea[name=body]");
    if (!box) return;
    var text = button.getAttribute("data-markdown") || "";
    var start = box.selectionStart || 0;
    var end = box.selectionEnd || 0;
    var before = box.value.slice(0, start);
    var spacer = before && !/\s$/.test(before) ? " " : "";
    box.value = before + spacer + text + box.value.slice(end);
    var caret = (before + spacer + text).length;
    box.focus();
    box.setSelectionRange(caret, caret);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
