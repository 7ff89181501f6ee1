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
