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
