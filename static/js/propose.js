/* Faultline labeling page, pilot phase: propose a category without leaving the page
   (issue #17). Alt+K opens the form (the text selected in the issue becomes its evidence
   quote), Alt+E in the form takes the selection again, Ctrl+Enter proposes, Esc closes.
   The panel is loaded and posted with htmx; its keys are taken before label.js sees
   them (capture phase), so Ctrl+Enter here never submits the labels. */
(function () {
  "use strict";

  var lastQuote = "";

  function form() { return document.getElementById("proposal-form"); }

  function rememberSelection() {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) { return; }
    var node = selection.getRangeAt(0).commonAncestorContainer;
    var element = node.nodeType === 1 ? node : node.parentElement;
    if (element && element.closest && element.closest("[data-evidence-part]")) {
      lastQuote = selection.toString().trim();
    }
  }

  function takeQuote() {
    var box = document.getElementById("proposal-evidence");
    if (box && lastQuote) { box.value = lastQuote; }
  }

  function syncParents() {
    var dimension = document.getElementById("proposal-dimension");
    var parent = document.getElementById("proposal-parent");
    if (!dimension || !parent) { return; }
    Array.prototype.forEach.call(parent.options, function (option) {
      option.hidden = !!option.dataset.dimension && option.dataset.dimension !== dimension.value;
      if (option.hidden && option.selected) { parent.value = ""; }
    });
  }

  function open() {
    var f = form();
    if (!f) { return; }
    f.hidden = false;
    takeQuote();
    syncParents();
    document.getElementById("proposal-dimension").focus();
  }

  function close() {
    var f = form();
    if (f) { f.hidden = true; }
    var search = document.querySelector("#records .picker-search");
    if (search) { search.focus(); }
  }

  function onKey(event) {
    var f = form();
    if (!f) { return; }
    var inside = f.contains(event.target);
    if (event.altKey && !event.ctrlKey && !event.metaKey && event.code === "KeyK") {
      event.preventDefault();
      event.stopPropagation();
      if (f.hidden) { open(); } else { close(); }
      return;
    }
    if (!inside) { return; }
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      event.stopPropagation();
      f.requestSubmit();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    } else if (event.altKey && event.code === "KeyE") {
      event.preventDefault();
      event.stopPropagation();
      takeQuote();
    } else {
      // Letters typed here are text, not the page's shortcuts.
      event.stopPropagation();
    }
  }

  document.addEventListener("keydown", onKey, true);
  document.addEventListener("selectionchange", rememberSelection);
  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "proposal-dimension") { syncParents(); }
  });
  document.addEventListener("htmx:load", syncParents);
})();
