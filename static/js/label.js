/* Faultline labeling page: keyboard-first category pickers, failure records, a draft
   kept in localStorage, and the page's shortcuts (evidence spans: evidence.js; active
   time: active-time.js).
   Plain JavaScript; htmx (django-htmx's copy) swaps #workspace after submit and skip. */
(function () {
  "use strict";

  // held: the keys typed while the next item is on its way (null when none is).
  var state = { picker: null, held: null, swapped: false };

  function qs(root, selector) { return root.querySelector(selector); }
  function qsa(root, selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }
  function workspace() { return document.getElementById("workspace"); }
  function labelForm() { return document.getElementById("label-form"); }
  function skipForm() { return document.getElementById("skip-form"); }

  function draftKey(ws, itemId) {
    return "faultline:draft:" + ws.dataset.project + ":" + itemId + ":" + ws.dataset.user;
  }

  /* ------------------------------------------------------------------ pickers */

  function pickers() {
    var form = labelForm();
    return form ? qsa(form, "#records .picker") : [];
  }

  function visibleOptions(picker) {
    return qsa(picker, ".picker-options li").filter(function (li) { return !li.hidden; });
  }

  function filterPicker(picker) {
    var query = qs(picker, ".picker-search").value.toLowerCase().trim();
    var words = query ? query.split(/\s+/) : [];
    var list = qs(picker, ".picker-options");
    var ranked = qsa(list, "li").map(function (li) {
      var path = li.dataset.search;
      var text = path + " " + (li.dataset.text || "");
      var inPath = words.every(function (w) { return path.indexOf(w) !== -1; });
      var inText = inPath || words.every(function (w) { return text.indexOf(w) !== -1; });
      li.hidden = !inText;
      // Matches in the path come before matches in descriptions and examples.
      return { li: li, rank: inPath ? 0 : (inText ? 1 : 2), order: Number(li.dataset.order) };
    });
    ranked.sort(function (a, b) { return a.rank - b.rank || a.order - b.order; });
    ranked.forEach(function (entry) { list.appendChild(entry.li); });
    visibleOptions(picker).forEach(function (li, index) {
      qs(li, ".num").textContent = index < 9 ? String(index + 1) : "";
    });
    setHighlight(picker, 0);
  }

  function setHighlight(picker, index) {
    var visible = visibleOptions(picker);
    qsa(picker, "li.highlight").forEach(function (li) { li.classList.remove("highlight"); });
    if (!visible.length) {
      qs(picker, ".picker-search").removeAttribute("aria-activedescendant");
      return;
    }
    index = Math.max(0, Math.min(index, visible.length - 1));
    picker.dataset.highlight = String(index);
    visible[index].classList.add("highlight");
    qs(picker, ".picker-search").setAttribute("aria-activedescendant", visible[index].id);
    if (picker.classList.contains("active")) {
      visible[index].scrollIntoView({ block: "nearest" });
    }
  }

  function showPicked(picker, li) {
    qsa(picker, "li.selected").forEach(function (other) { other.classList.remove("selected"); });
    if (li) {
      li.classList.add("selected");
      qs(picker, ".picked").textContent = li.dataset.path;
      picker.classList.add("done");
    } else {
      qs(picker, ".picked").textContent = "nothing picked";
      picker.classList.remove("done");
    }
  }

  function pick(picker, li) {
    qs(picker, ".picker-value").value = li.dataset.id;
    showPicked(picker, li);
    qs(picker, ".picker-search").value = "";
    filterPicker(picker);
    saveDraft();
    moveFrom(picker, 1);
  }

  // The active picker's list is open; its search field (a combobox) says so.
  function activate(picker) {
    pickers().forEach(function (p) {
      p.classList.toggle("active", p === picker);
      qs(p, ".picker-search").setAttribute("aria-expanded", String(p === picker));
    });
    state.picker = picker;
  }

  function focusPicker(picker) {
    if (!picker) { return; }
    activate(picker);
    qs(picker, ".picker-search").focus();
  }

  function moveFrom(picker, step) {
    var all = pickers();
    var index = all.indexOf(picker) + step;
    if (index >= all.length) {
      document.getElementById("note").focus();
    } else if (index >= 0) {
      focusPicker(all[index]);
    }
  }

  function onSearchKey(event) {
    var picker = event.target.closest(".picker");
    var key = event.key;
    if (event.ctrlKey || event.altKey || event.metaKey) { return; }
    var highlight = Number(picker.dataset.highlight || 0);
    if (/^[1-9]$/.test(key)) {
      var option = visibleOptions(picker)[Number(key) - 1];
      if (option) { pick(picker, option); }
      event.preventDefault();
    } else if (key === "ArrowDown" || key === "ArrowUp") {
      setHighlight(picker, highlight + (key === "ArrowDown" ? 1 : -1));
      event.preventDefault();
    } else if (key === "Enter") {
      var chosen = visibleOptions(picker)[highlight];
      if (chosen) { pick(picker, chosen); }
      event.preventDefault();
    } else if ((key === "Tab" && !event.shiftKey) || key === "]") {
      moveFrom(picker, 1);
      event.preventDefault();
    } else if ((key === "Tab" && event.shiftKey) || key === "[") {
      moveFrom(picker, -1);
      event.preventDefault();
    } else if (key === "Escape" && event.target.value) {
      event.target.value = "";
      filterPicker(picker);
      event.preventDefault();
      event.stopPropagation();
    }
  }

  function initPickers(root) {
    qsa(root, ".picker").forEach(function (picker) {
      qsa(picker, ".picker-options li").forEach(function (li, index) {
        li.dataset.order = String(index);
        li.addEventListener("click", function () { pick(picker, li); });
      });
      var search = qs(picker, ".picker-search");
      search.addEventListener("input", function () { filterPicker(picker); });
      search.addEventListener("keydown", onSearchKey);
      search.addEventListener("focus", function () { activate(picker); });
      filterPicker(picker);
    });
    qsa(root, "[data-action=remove-record]").forEach(function (button) {
      button.addEventListener("click", function () { removeRecord(button.closest(".record")); });
    });
  }

  /* ------------------------------------------------------------------ records */

  function records() { return qsa(labelForm(), "#records .record"); }

  function renumber() {
    records().forEach(function (record, index) {
      record.dataset.record = String(index);
      qs(record, ".record-number").textContent = String(index + 1);
      qsa(record, "[name], [id], label[for]").forEach(function (el) {
        ["name", "id", "for", "aria-controls", "aria-activedescendant"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value && /^r\d+-/.test(value)) {
            el.setAttribute(attr, value.replace(/^r\d+-/, "r" + index + "-"));
          }
        });
      });
    });
    labelForm().elements.record_count.value = String(records().length);
  }

  function addRecord(focus) {
    var template = document.getElementById("record-template");
    var container = document.getElementById("records");
    var index = records().length;
    container.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__R__/g, String(index)));
    var record = container.lastElementChild;
    initPickers(record);
    renumber();
    if (focus) { focusPicker(qs(record, ".picker")); saveDraft(); }
    return record;
  }

  function removeRecord(record) {
    if (!record || records().length < 2) { return; }
    record.remove();
    renumber();
    focusPicker(qs(records()[records().length - 1], ".picker"));
    saveDraft();
  }

  /* ------------------------------------------------------------ out of scope */

  function applyOutOfScope(focus) {
    var box = document.getElementById("out-of-scope");
    var on = box.checked;
    workspace().classList.toggle("out-of-scope", on);
    records().forEach(function (record) { record.disabled = on; });
    if (on && focus) { document.getElementById("oos-reason").focus(); }
    if (!on && focus) { focusPicker(pickers()[0]); }
  }

  /* -------------------------------------------------------------------- draft */

  function saveDraft() {
    var ws = workspace();
    var form = labelForm();
    if (!ws || !form || !ws.dataset.item) { return; }
    var data = { records: records().length, fields: {} };
    qsa(form, "input, textarea, select").forEach(function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.name === "record_count") { return; }
      data.fields[el.name] = el.type === "checkbox" ? el.checked : el.value;
    });
    try { localStorage.setItem(draftKey(ws, ws.dataset.item), JSON.stringify(data)); } catch (e) { /* storage full or off */ }
  }

  function restoreDraft(ws) {
    var raw = null;
    try { raw = localStorage.getItem(draftKey(ws, ws.dataset.item)); } catch (e) { return; }
    if (!raw) { return; }
    var data;
    try { data = JSON.parse(raw); } catch (e) { return; }
    while (records().length < data.records) { addRecord(false); }
    while (records().length > Math.max(data.records, 1)) { records()[records().length - 1].remove(); }
    renumber();
    var form = labelForm();
    Object.keys(data.fields).forEach(function (name) {
      var el = form.elements[name];
      if (!el || el.length !== undefined && !el.tagName) { return; }
      if (el.type === "checkbox") { el.checked = Boolean(data.fields[name]); } else { el.value = data.fields[name]; }
    });
    pickers().forEach(function (picker) {
      var id = qs(picker, ".picker-value").value;
      showPicked(picker, id ? qs(picker, '.picker-options li[data-id="' + id + '"]') : null);
    });
  }

  /* ---------------------------------------------------------------- panels */

  function toggleGuidelines(show) {
    var panel = document.getElementById("guidelines");
    if (!panel) { return; }
    panel.hidden = show === undefined ? !panel.hidden : !show;
  }

  function openSkip() {
    var form = skipForm();
    if (!form) { return; }
    form.hidden = false;
    document.getElementById("skip-reason").focus();
  }

  function closePanels() {
    toggleGuidelines(false);
    if (skipForm()) { skipForm().hidden = true; }
    focusPicker(state.picker || pickers()[0]);
  }

  function submitLabel() {
    var form = labelForm();
    if (!form) { return; }
    renumber();
    form.requestSubmit();
  }

  /* ------------------------------------------------------------- shortcuts */

  var ALT_ACTIONS = {
    KeyA: function () { addRecord(true); },
    KeyR: function () { removeRecord(state.picker ? state.picker.closest(".record") : null); },
    KeyO: function () {
      var box = document.getElementById("out-of-scope");
      box.checked = !box.checked;
      applyOutOfScope(true);
      saveDraft();
    },
    // Alt+E, evidence from the selection: evidence.js.
    KeyS: openSkip,
    KeyG: function () { toggleGuidelines(); },
    KeyN: function () { document.getElementById("note").focus(); },
    KeyC: function () { document.getElementById("confidence").focus(); },
    KeyP: function () { focusPicker(state.picker || pickers()[0]); }
  };

  function typingIn(target) {
    if (!target || !target.tagName) { return false; }
    if (target.classList && target.classList.contains("picker-search")) { return false; }
    return target.tagName === "TEXTAREA" || target.tagName === "SELECT" ||
      (target.tagName === "INPUT" && target.type !== "checkbox");
  }

  function onKey(event) {
    if (!workspace()) { return; }
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      if (skipForm() && !skipForm().hidden && skipForm().contains(event.target)) {
        skipForm().requestSubmit();
      } else {
        submitLabel();
      }
      return;
    }
    if (event.altKey && !event.ctrlKey && !event.metaKey && ALT_ACTIONS[event.code] && labelForm()) {
      event.preventDefault();
      ALT_ACTIONS[event.code]();
      return;
    }
    if (event.key === "Escape") {
      closePanels();
      return;
    }
    if (event.key === "?" && !typingIn(event.target)) {
      event.preventDefault();
      toggleGuidelines();
    }
  }

  /* ---------------------------------------------------- keys during the swap */
  // From the submit (Ctrl+Enter, a skip) until the next item is set up, htmx fetches and
  // swaps #workspace and settles it: a key typed then would land in the old item's form
  // or on <body>, and be lost. Such keys are held, then replayed on the new item's focus.

  var MODIFIERS = { Shift: 1, Control: 1, Alt: 1, Meta: 1, AltGraph: 1, CapsLock: 1 };

  function holdKey(event) {
    if (state.held === null || MODIFIERS[event.key]) { return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    state.held.push({
      key: event.key, code: event.code, altKey: event.altKey, ctrlKey: event.ctrlKey,
      shiftKey: event.shiftKey, metaKey: event.metaKey
    });
  }

  function editable(el) {
    return el && (el.tagName === "TEXTAREA" ||
      (el.tagName === "INPUT" && /^(text|search)$/.test(el.type)));
  }

  // A synthetic keydown reaches the page's own shortcuts; a key none of them takes is
  // typed into the focused field as the browser would have (untrusted events type nothing).
  function replayKey(key) {
    var target = document.activeElement || document.body;
    var event = new KeyboardEvent("keydown", {
      key: key.key, code: key.code, altKey: key.altKey, ctrlKey: key.ctrlKey,
      shiftKey: key.shiftKey, metaKey: key.metaKey, bubbles: true, cancelable: true
    });
    if (!target.dispatchEvent(event) || !editable(target)) { return; }
    if (key.ctrlKey || key.altKey || key.metaKey) { return; }
    var start = target.selectionStart;
    var end = target.selectionEnd;
    if (key.key.length === 1) {
      target.setRangeText(key.key, start, end, "end");
    } else if (key.key === "Enter" && target.tagName === "TEXTAREA") {
      target.setRangeText("\n", start, end, "end");
    } else if (key.key === "Backspace" && (start !== end || start > 0)) {
      target.setRangeText("", start === end ? start - 1 : start, end, "end");
    } else {
      return;
    }
    target.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function releaseKeys() {
    var keys = state.held || [];
    state.held = null;
    keys.forEach(function (key) {
      // A replayed Ctrl+Enter submits again: the keys after it wait for that next item.
      if (state.held !== null) { state.held.push(key); } else { replayKey(key); }
    });
  }

  function forWorkspace(event) {
    return event.detail.target && event.detail.target.id === "workspace";
  }

  /* ------------------------------------------------------------------ setup */

  function init() {
    var ws = workspace();
    if (!ws || ws.dataset.ready) { return; }
    ws.dataset.ready = "1";
    if (ws.dataset.submitted) {
      try { localStorage.removeItem(draftKey(ws, ws.dataset.submitted)); } catch (e) { /* off */ }
    }
    var form = labelForm();
    if (!form) { return; }
    initPickers(form);
    restoreDraft(ws);
    applyOutOfScope(false);
    form.addEventListener("input", saveDraft);
    form.addEventListener("change", saveDraft);
    form.addEventListener("submit", renumber);
    qsa(ws, "[data-action=add-record]").forEach(function (b) {
      b.addEventListener("click", function () { addRecord(true); });
    });
    qsa(ws, "[data-action=skip]").forEach(function (b) { b.addEventListener("click", openSkip); });
    document.getElementById("out-of-scope").addEventListener("change", function () { applyOutOfScope(true); });
    window.scrollTo(0, 0);
    var all = pickers();
    var first = all.filter(function (p) { return !p.classList.contains("done"); })[0] || all[0];
    if (document.getElementById("out-of-scope").checked) {
      document.getElementById("oos-reason").focus();
    } else {
      focusPicker(first);
    }
  }

  document.addEventListener("keydown", onKey);
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-action=close-guidelines]")) { toggleGuidelines(false); }
  });
  // htmx puts focus back on an element of the new item with the old one's id (the
  // note, after the last pick), so until init runs "?" would type into the note.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (forWorkspace(event) && document.activeElement) {
      document.activeElement.blur();
    }
  });
  window.addEventListener("keydown", holdKey, true);
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (forWorkspace(event)) {
      state.held = state.held || [];
      state.swapped = false;
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (forWorkspace(event)) { state.swapped = true; }
  });
  // A refused or failed submit (htmx swaps no 4xx/5xx reply, and a lost connection has
  // none): said above the item, which stays as typed (its draft is kept).
  function showRefusal(text) {
    var ws = workspace();
    if (!ws) { return; }
    var note = ws.querySelector(".label-error");
    if (!note) {
      note = document.createElement("p");
      note.className = "label-error";
      note.setAttribute("role", "alert");
      var progress = document.getElementById("label-progress");
      ws.insertBefore(note, progress ? progress.nextSibling : ws.firstChild);
    }
    note.textContent = text;
  }
  document.addEventListener("htmx:responseError", function (event) {
    if (!forWorkspace(event)) { return; }
    var status = event.detail.xhr.status;
    if (status === 403 || status === 404) {
      showRefusal("Your labels were not saved: this item or project is no longer open to " +
        "you (your role or assignment changed). Reload the page to see what is left for you.");
    } else {
      showRefusal("Your labels were not saved: the server answered " + status +
        ". They are kept here; try again in a moment.");
    }
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (!forWorkspace(event)) { return; }
    showRefusal("Your labels were not saved: no connection to the server. They are kept " +
      "here; try again once you are back online.");
  });
  // No new item came (an error, no answer): the keys go where the focus still is. Only the
  // workspace's own request counts: the progress line's part (loaded after each item) may
  // answer while a submit is on its way, and its keys belong to the next item.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (forWorkspace(event) && state.held !== null && !state.swapped) { releaseKeys(); }
  });
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail && event.detail.elt;
    var ours = !elt || elt.id === "workspace" || (elt.querySelector && elt.querySelector("#workspace"));
    if (!ours) { return; }  // another part (the progress line) came in, not the next item
    try { init(); } finally { releaseKeys(); }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
