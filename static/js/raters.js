// Machine raters: the runs list refreshes every second while a run is active, which would
// replace a half-typed "Change or remove" form. While one of those is open the refresh
// waits (the note beside it says so) and resumes on the next tick after it closes.
document.addEventListener("htmx:beforeRequest", function (event) {
  var list = event.detail.elt;
  if (list && list.id === "rater-runs" && list.querySelector("details.rater-settings[open]")) {
    event.preventDefault();
  }
});
