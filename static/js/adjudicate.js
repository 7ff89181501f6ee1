// Keyboard operation of the conflict queue and the lead's decision form.
// Queue: j/k move, Enter opens. Decision: j/k move between dimensions, 1-4 take that
// annotator's category for the focused dimension, e (or Enter) types a category for it,
// r rationale, o out of scope, m the discussion thread's reply,
// Ctrl+Enter (or Cmd+Enter) decides, Escape leaves a text field.
(function () {
  "use strict";

  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" ||
      target.tagName === "SELECT" || target.isContentEditable);
  }

  function mover(selector, className) {
    var index = -1;
    return {
      items: function () { return Array.prototype.slice.call(document.querySelectorAll(selector)); },
      current: function () { var all = this.items(); return index >= 0 ? all[index] : null; },
      move: function (step) {
        var all = this.items();
        if (!all.length) { return null; }
        if (index >= 0 && all[index]) { all[index].classList.remove(className); }
        index = Math.max(0, Math.min(all.length - 1, index + step));
        all[index].classList.add(className);
        all[index].scrollIntoView({ block: "nearest" });
        return all[index];
      },
      reset: function () { index = -1; }
    };
  }

  var queue = mover(".queue-row", "selected");
  var dims = mover(".decision-dim", "focused");

  function takeSide(dim, side) {
    var sides = (dim.getAttribute("data-sides") || "").split(",");
    var value = sides[side];
    var select = dim.querySelector("select");
    if (value && select) {
      select.value = value;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  function renumber() {
    document.querySelectorAll("[data-record-block]").forEach(function (block, i) {
      var number = block.querySelector("[data-record-number]");
      if (number) { number.textContent = String(i + 1); }
    });
  }

  function addRecord() {
    var blocks = document.querySelectorAll("[data-record-block]");
    var counter = document.querySelector("[data-record-count]");
    if (!blocks.length || !counter) { return; }
    var index = parseInt(counter.value, 10);
    var copy = blocks[blocks.length - 1].cloneNode(true);
    var picker = window.FaultlinePicker;
    if (picker) { picker.strip(copy); }  // the copy gets pickers of its own below
    copy.querySelectorAll("[name]").forEach(function (field) {
      field.name = field.name.replace(/^r\d+-/, "r" + index + "-");
      if (field.id) { field.id = field.id.replace(/^r\d+-/, "r" + index + "-"); }
      if (field.tagName === "SELECT") { field.value = ""; }
    });
    copy.querySelectorAll("label[for]").forEach(function (label) {
      label.htmlFor = label.htmlFor.replace(/^r\d+-/, "r" + index + "-");
    });
    copy.querySelectorAll(".focused").forEach(function (el) { el.classList.remove("focused"); });
    blocks[blocks.length - 1].after(copy);
    if (picker) { picker.enhance(copy); }
    counter.value = String(index + 1);
    renumber();
    dims.reset();
  }

  document.addEventListener("click", function (event) {
    var take = event.target.closest("[data-take]");
    if (take) {
      takeSide(take.closest(".decision-dim"), parseInt(take.getAttribute("data-take"), 10));
    } else if (event.target.closest("[data-add-record]")) {
      addRecord();
    } else if (event.target.closest("[data-remove-record]")) {
      if (document.querySelectorAll("[data-record-block]").length > 1) {
        event.target.closest("[data-record-block]").remove();
        renumber();
        dims.reset();
      }
    } else {
      var row = event.target.closest(".queue-row");
      if (row && !event.target.closest("a")) { window.location = row.getAttribute("data-href"); }
    }
  });

  document.addEventListener("keydown", function (event) {
    var form = document.querySelector("[data-decision-form]");
    if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (event.key === "Escape" && typing(event.target)) { event.target.blur(); return; }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var reply = document.getElementById("thread-body");
    if (event.key === "m" && reply) {  // write in the item's discussion thread
      event.preventDefault();
      reply.focus();
      return;
    }
    if (!form) {
      if (event.key === "j") { queue.move(1); }
      else if (event.key === "k") { queue.move(-1); }
      else if (event.key === "Enter" && queue.current()) {
        window.location = queue.current().getAttribute("data-href");
      } else { return; }
      event.preventDefault();
      return;
    }
    if (event.key === "j") { dims.move(1); }
    else if (event.key === "k") { dims.move(-1); }
    else if (/^[1-4]$/.test(event.key)) {
      var dim = dims.current() || dims.move(1);
      if (dim) { takeSide(dim, parseInt(event.key, 10) - 1); }
    } else if (event.key === "e" || (event.key === "Enter" && event.target === document.body)) {
      // Type a category for the focused dimension (its picker, static/js/picker.js).
      var focused = dims.current() || dims.move(1);
      var field = focused && (focused.querySelector(".combo-input") || focused.querySelector("select"));
      if (field) { field.focus(); }
    } else if (event.key === "r") { document.getElementById("rationale").focus(); }
    else if (event.key === "o") {
      var box = document.getElementById("out-of-scope");
      box.checked = !box.checked;
    } else { return; }
    event.preventDefault();
  });

  document.addEventListener("htmx:afterSwap", function () { queue.reset(); });
})();
