// Precedents (issue #19): p opens the next precedent in the list (its final labels and
// rationale), closing the one before, and past the last closes them all; outside text
// fields only, like the page's other keys.
(function () {
  "use strict";
  if (window.FaultlinePrecedents) { return; }  // the partial may be swapped in again by htmx
  window.FaultlinePrecedents = true;

  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" ||
      target.tagName === "SELECT" || target.isContentEditable);
  }

  function openNext() {
    var all = Array.prototype.slice.call(document.querySelectorAll("[data-precedent]"));
    if (!all.length) { return; }
    var current = all.findIndex(function (d) { return d.open; });
    all.forEach(function (d) { d.open = false; });
    if (current === all.length - 1) { return; }  // past the last one: all closed again
    var next = all[current + 1];
    next.open = true;
    next.querySelector("summary").focus();
    next.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "p" || event.ctrlKey || event.altKey || event.metaKey) { return; }
    if (typing(event.target) || !document.querySelector("[data-precedent]")) { return; }
    event.preventDefault();
    event.stopPropagation();
    openNext();
  }, true);
})();
