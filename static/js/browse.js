// The item browser: a refused filter answers 400 with its message in place of the results
// (htmx swaps no 4xx reply unless told), and "/" moves to the search box.
document.addEventListener("htmx:beforeSwap", function (event) {
  var target = event.detail.target;
  if (event.detail.xhr.status === 400 && target && target.id === "results") {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
document.addEventListener("keydown", function (event) {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  var active = document.activeElement;
  if (active && (active.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName))) return;
  var box = document.getElementById("f-q");
  if (box) {
    event.preventDefault();
    box.focus();
    box.select();
  }
});
// Back and forward: htmx puts back the page's saved HTML, in which each filter field still
// carries the value the page was first loaded with; set the fields from the address, so
// the form always says what the list shows. (Enter in the search box fires "change", then
// "submit": the form's hx-sync replaces the first request, so one search, one entry.)
function syncFiltersWithAddress() {
  var form = document.getElementById("item-filters");
  if (!form) return;
  var params = new URLSearchParams(window.location.search);
  Array.prototype.forEach.call(form.elements, function (field) {
    if (field.name) field.value = params.get(field.name) || "";
  });
}
document.addEventListener("htmx:historyRestore", syncFiltersWithAddress);
window.addEventListener("pageshow", syncFiltersWithAddress);
