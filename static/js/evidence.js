/* Faultline labeling page: evidence as spans (issue #15). Select text in the issue (its
   title, body, one comment, or a fix's title beside it, issue #20), then Alt+E (or a picker's "take selection" button): the
   focused picker gets the quote and its span, `part:start:end:hash`, where start and end
   count code points (an emoji is one) in the part's text as the page shows it, and hash is
   that text's version (data-evidence-hash), so the server can check the span and notice a
   later edit. The server checks everything again; this file only measures. */
(function () {
  "use strict";

  var MAX_QUOTE = 5000; // annotate.limits: one evidence quote
  var remembered = null; // { range, part } of the last selection inside the issue
  var taken = []; // ranges taken and not yet submitted, highlighted with CSS.highlights

  function codePoints(text) { return Array.from(text).length; }

  function partOf(node) {
    var el = node && (node.nodeType === 1 ? node : node.parentElement);
    var part = el && el.closest ? el.closest("[data-evidence-part]") : null;
    return part && part.closest(".label-issue") ? part : null;
  }

  function status(text) {
    var el = document.getElementById("evidence-status");
    if (el) { el.textContent = text; }
  }

  function rememberSelection() {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) { return; }
    var range = selection.getRangeAt(0);
    var start = partOf(range.startContainer);
    var end = partOf(range.endContainer);
    if (!start && !end) { return; }
    remembered = { range: range.cloneRange(), part: start === end ? start : null };
  }

  function partName(part) {
    var key = part.dataset.evidencePart;
    if (key === "title") { return "the title"; }
    if (key === "body") { return "the body"; }
    if (key.indexOf("fix-") === 0) { return "the fix #" + key.replace("fix-", ""); }
    return "comment " + key.replace("comment-", "");
  }

  // The span of `range` inside `part`: offsets in code points, whitespace at either end
  // left out, and the quote with its whitespace collapsed (as the server normalizes it).
  function measure(part, range) {
    var before = document.createRange();
    before.setStart(part, 0);
    before.setEnd(range.startContainer, range.startOffset);
    var text = range.toString();
    var start = codePoints(before.toString()) + codePoints(text.match(/^\s*/)[0]);
    var end = codePoints(before.toString()) + codePoints(text.replace(/\s+$/, ""));
    return { start: start, end: end, quote: text.trim().replace(/\s+/g, " ") };
  }

  function activePicker() {
    return document.querySelector("#label-form #records .picker.active") ||
      document.querySelector("#label-form #records .picker");
  }

  function highlightTaken() {
    if (!window.CSS || !CSS.highlights || typeof Highlight === "undefined") { return; }
    var highlight = new Highlight();
    taken.forEach(function (t) { highlight.add(t.range); });
    CSS.highlights.set("evidence-new", highlight);
  }

  function take(picker) {
    rememberSelection();
    picker = picker || activePicker();
    if (!picker) { return; }
    var dimension = picker.querySelector("label").firstChild.textContent.trim();
    if (!remembered) {
      status("Select text in the issue first, then press Alt+E.");
      return;
    }
    if (!remembered.part) {
      status("Select the evidence within one part of the issue: the title, the body, one comment or one fix's title.");
      return;
    }
    var part = remembered.part;
    var span = measure(part, remembered.range);
    if (span.end <= span.start) {
      status("The selection holds no text.");
      return;
    }
    if (span.quote.length > MAX_QUOTE) {
      status("The selection is too long for evidence (at most " + MAX_QUOTE + " characters); select less.");
      return;
    }
    var quote = picker.querySelector(".evidence");
    var hidden = picker.querySelector(".evidence-span");
    quote.value = span.quote;
    quote.dataset.spanQuote = span.quote;
    hidden.value = [part.dataset.evidencePart, span.start, span.end, part.dataset.evidenceHash].join(":");
    taken = taken.filter(function (t) { return t.picker !== picker; });
    taken.push({ picker: picker, range: remembered.range });
    highlightTaken();
    remembered = null;
    // The form's input event saves the draft (label.js).
    quote.dispatchEvent(new Event("input", { bubbles: true }));
    // A selection left in the issue would swallow the next keystrokes.
    window.getSelection().removeAllRanges();
    status("Evidence for " + dimension + ": characters " + span.start + "–" + span.end + " of " + partName(part) + ".");
    var search = picker.querySelector(".picker-search");
    search.blur();
    search.focus();
  }

  // A quote typed or changed by hand no longer is the selected text: its span goes.
  function onQuoteInput(event) {
    var quote = event.target;
    if (!quote.classList || !quote.classList.contains("evidence")) { return; }
    if (quote.value !== (quote.dataset.spanQuote || quote.defaultValue)) {
      var picker = quote.closest(".picker");
      picker.querySelector(".evidence-span").value = "";
      quote.dataset.spanQuote = "";
    }
  }

  function onKey(event) {
    if (event.altKey && !event.ctrlKey && !event.metaKey && event.code === "KeyE" &&
        document.getElementById("label-form")) {
      event.preventDefault();
      take(null);
    }
  }

  function onClick(event) {
    var button = event.target.closest && event.target.closest("[data-action=take-evidence]");
    if (button) { take(button.closest(".picker")); }
  }

  document.addEventListener("keydown", onKey);
  document.addEventListener("selectionchange", rememberSelection);
  document.addEventListener("click", onClick);
  document.addEventListener("input", onQuoteInput);
  // A new item: the highlights of the old one's selections go.
  document.addEventListener("htmx:load", function () {
    taken = taken.filter(function (t) { return document.contains(t.picker); });
    highlightTaken();
    remembered = null;
  });
})();
