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

// A bad filter answers 400 with its message in place of the result area (the page around
// it stays); htmx swaps no 4xx reply unless told, which left the old result in place
// without a word.
document.addEventListener("htmx:beforeSwap", function (event) {
  var target = event.detail.target;
  if (event.detail.xhr.status === 400 && target && target.classList.contains("analysis-body")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
