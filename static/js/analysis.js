// Distributions dashboard: a click on a view tab keeps the filters and swaps the panel via
// the filter form (htmx), so the URL and the hidden `view` field stay in step.
document.addEventListener("click", function (event) {
  var tab = event.target.closest("nav.tabs a[data-view]");
  var form = document.getElementById("dist-filters");
  if (!tab || !form || !window.htmx) return;
  event.preventDefault();
  document.getElementById("id_view").value = tab.dataset.view;
  window.htmx.trigger(form, "submit");
});

// A bad or refused filter answers 400 or 403 with its message in place of the result area
// (the page around it stays); htmx swaps no 4xx reply unless told, which left the old
// result in place without a word.
document.addEventListener("htmx:beforeSwap", function (event) {
  var target = event.detail.target;
  var status = event.detail.xhr.status;
  if ((status === 400 || status === 403) && target && target.classList.contains("analysis-body")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
