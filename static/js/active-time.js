/* Faultline labeling page: active time per item (issue #15). A second counts while the
   tab is visible and the annotator typed, clicked, scrolled or moved the pointer in the
   last IDLE_SECONDS; the sum goes with the submission in the form's `active_seconds`
   (the server clamps each visit to 0-4 h). A new item starts again from zero. */
(function () {
  "use strict";

  var IDLE_SECONDS = 60;
  var TICK_MS = 1000;
  var state = { item: null, seconds: 0, lastInput: Date.now(), lastTick: Date.now() };

  function workspace() { return document.getElementById("workspace"); }

  function visible() { return document.visibilityState === "visible"; }

  function write() {
    var field = document.getElementById("active-seconds");
    if (field) { field.value = String(Math.round(state.seconds)); }
  }

  // Time since the last tick counts when the page was visible and in use throughout;
  // a long gap (a sleeping laptop, a throttled timer) counts at most one tick and a half.
  function tick() {
    var now = Date.now();
    var elapsed = Math.min(now - state.lastTick, TICK_MS * 1.5);
    state.lastTick = now;
    if (visible() && now - state.lastInput <= IDLE_SECONDS * 1000) {
      state.seconds += elapsed / 1000;
    }
    write();
  }

  function onInput() {
    if (visible()) { state.lastInput = Date.now(); }
  }

  // Whether the workspace shows another item than the one being timed: start again.
  function follow() {
    var ws = workspace();
    var item = ws ? ws.dataset.item : null;
    if (item !== state.item) {
      state.item = item;
      state.seconds = 0;
      state.lastInput = Date.now();
      state.lastTick = Date.now();
    }
    write();
  }

  document.addEventListener("visibilitychange", function () {
    // Leaving: the time up to now counts (if it was active); the rest waits for return.
    if (!visible()) { tick(); }
    state.lastTick = Date.now();
    if (visible()) { state.lastInput = Date.now(); }
  });
  ["keydown", "pointerdown", "pointermove", "wheel", "scroll", "input"].forEach(function (name) {
    window.addEventListener(name, onInput, { capture: true, passive: true });
  });
  document.addEventListener("htmx:load", follow);
  // The form is read when it is sent: bring the count up to this moment first.
  document.addEventListener("submit", tick, true);
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail && event.detail.elt && event.detail.elt.id === "label-form") {
      tick();
      if (event.detail.parameters) {
        try { event.detail.parameters.active_seconds = String(Math.round(state.seconds)); } catch (e) { /* the field holds it */ }
      }
    }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", follow);
  } else {
    follow();
  }
  window.setInterval(tick, TICK_MS);
  window.FaultlineActiveTime = { seconds: function () { return state.seconds; } };
})();
