/* A type-ahead picker over a native <select> (the lead's decision form, issue #15; the
   calibration form and the gold-set editor, issue #17): a combobox field that filters a
   listbox of the select's options as one types, the way the labeling page's pickers do.
   Keyboard first: type to filter (every word must appear in the category's path),
   ArrowDown/ArrowUp move, Enter picks, Escape closes and restores, Home/End jump; the
   mouse works too.

   The <select> stays the form's field (out of sight and out of the tab order), so the form
   posts as before, and code that sets select.value and fires "change" (taking a side with
   1/2) shows through. Markup it builds: div.combo > input[role=combobox] + ul[role=listbox]
   > li[role=option]. Enhances every select[data-picker] on load; window.FaultlinePicker
   exposes enhance(root) and strip(root) for copies of a form part (adding a record). */
(function () {
  "use strict";

  function qsa(root, selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }

  function words(text) {
    var query = text.toLowerCase().trim();
    return query ? query.split(/\s+/) : [];
  }

  function labelOf(select) {
    return select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
  }

  function optionText(select) {
    var option = select.options[select.selectedIndex];
    return option && option.value ? option.text : "";
  }

  function build(select) {
    var id = select.id;
    var box = document.createElement("div");
    box.className = "combo";
    var input = document.createElement("input");
    input.type = "text";
    input.id = id + "-search";
    input.className = "combo-input";
    input.autocomplete = "off";
    input.spellcheck = false;
    input.placeholder = "Type to search · ↓↑ move · Enter picks";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id + "-options");
    var list = document.createElement("ul");
    list.id = id + "-options";
    list.className = "combo-list";
    list.hidden = true;
    list.setAttribute("role", "listbox");
    var label = labelOf(select);
    if (label) {
      label.htmlFor = input.id;
      list.setAttribute("aria-label", label.textContent.trim() + " categories");
    }
    Array.prototype.forEach.call(select.options, function (option) {
      if (!option.value) { return; }
      var li = document.createElement("li");
      li.id = id + "-option-" + option.value;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.value = option.value;
      li.dataset.search = option.text.toLowerCase();
      li.textContent = option.text;
      list.appendChild(li);
    });
    select.parentNode.insertBefore(box, select);
    box.appendChild(select);
    box.appendChild(input);
    box.appendChild(list);
    select.classList.add("combo-native");
    select.tabIndex = -1;
    select.setAttribute("aria-hidden", "true");
    select.dataset.pickerReady = "1";
    input.value = optionText(select);
    return { select: select, input: input, list: list };
  }

  function visible(picker) {
    return qsa(picker.list, "li").filter(function (li) { return !li.hidden; });
  }

  function highlight(picker, index) {
    var shown = visible(picker);
    qsa(picker.list, "li.active").forEach(function (li) {
      li.classList.remove("active");
      li.setAttribute("aria-selected", "false");
    });
    if (!shown.length) {
      picker.input.removeAttribute("aria-activedescendant");
      picker.index = -1;
      return;
    }
    picker.index = Math.max(0, Math.min(index, shown.length - 1));
    var li = shown[picker.index];
    li.classList.add("active");
    li.setAttribute("aria-selected", "true");
    picker.input.setAttribute("aria-activedescendant", li.id);
    li.scrollIntoView({ block: "nearest" });
  }

  function filter(picker, text) {
    var wanted = words(text);
    qsa(picker.list, "li").forEach(function (li) {
      li.hidden = !wanted.every(function (w) { return li.dataset.search.indexOf(w) !== -1; });
    });
    var shown = visible(picker);
    var current = shown.map(function (li) { return li.dataset.value; }).indexOf(picker.select.value);
    highlight(picker, wanted.length || current < 0 ? 0 : current);
    setOpen(picker, shown.length > 0);
  }

  function setOpen(picker, open) {
    picker.list.hidden = !open;
    picker.input.setAttribute("aria-expanded", String(open));
  }

  function restore(picker) {
    setOpen(picker, false);
    picker.input.value = optionText(picker.select);
  }

  function pick(picker, li) {
    picker.select.value = li.dataset.value;
    picker.select.dispatchEvent(new Event("change", { bubbles: true }));
    restore(picker);
  }

  function onKey(picker, event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var open = !picker.list.hidden;
    var key = event.key;
    if (key === "ArrowDown" || key === "ArrowUp") {
      if (!open) { filter(picker, ""); }
      else { highlight(picker, picker.index + (key === "ArrowDown" ? 1 : -1)); }
    } else if ((key === "Home" || key === "End") && open) {
      highlight(picker, key === "Home" ? 0 : visible(picker).length - 1);
    } else if (key === "Enter") {
      // Enter never submits the decision from here: it picks (Ctrl+Enter decides).
      var chosen = open ? visible(picker)[picker.index] : null;
      if (chosen) { pick(picker, chosen); }
    } else if (key === "Escape" && open) {
      restore(picker);
      event.stopPropagation();
    } else {
      return;
    }
    event.preventDefault();
  }

  function enhanceOne(select) {
    if (select.dataset.pickerReady || !select.id) { return; }
    var picker = build(select);
    picker.index = -1;
    picker.input.addEventListener("focus", function () {
      picker.input.select();
      filter(picker, "");
    });
    picker.input.addEventListener("input", function () { filter(picker, picker.input.value); });
    picker.input.addEventListener("keydown", function (event) { onKey(picker, event); });
    picker.input.addEventListener("blur", function () {
      if (!picker.input.value.trim() && picker.select.value) {
        picker.select.value = "";
        picker.select.dispatchEvent(new Event("change", { bubbles: true }));
      }
      restore(picker);
    });
    // A click on an option must not blur the field first.
    picker.list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    picker.list.addEventListener("click", function (event) {
      var li = event.target.closest("li[role=option]");
      if (li) { pick(picker, li); }
    });
    select.addEventListener("change", function () {
      if (document.activeElement !== picker.input) { picker.input.value = optionText(select); }
    });
  }

  function enhance(root) {
    qsa(root || document, "select[data-picker]").forEach(enhanceOne);
  }

  // Undo enhance() inside `root` (a copied form part): the selects back in place, plain.
  function strip(root) {
    qsa(root, ".combo").forEach(function (box) {
      var select = box.querySelector("select");
      var input = box.querySelector(".combo-input");
      if (!select) { box.remove(); return; }
      qsa(root, "label").forEach(function (label) {
        if (input && label.htmlFor === input.id) { label.htmlFor = select.id; }
      });
      box.replaceWith(select);
      select.classList.remove("combo-native");
      select.removeAttribute("tabindex");
      select.removeAttribute("aria-hidden");
      delete select.dataset.pickerReady;
    });
  }

  window.FaultlinePicker = { enhance: enhance, strip: strip };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  } else {
    enhance(document);
  }
})();
