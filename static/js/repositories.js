// Repositories: a refused group (400) comes back as the row with its message; htmx swaps
// no 4xx reply unless told, which would leave the old row without a word.
document.addEventListener("htmx:beforeSwap", function (event) {
  var target = event.detail.target;
  if (event.detail.xhr.status === 400 && target && target.classList.contains("repository-row")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
// After a swap, keep the keyboard where it was: in the row's group field.
document.addEventListener("htmx:afterSwap", function (event) {
  var row = event.detail.target;
  if (!row || !row.id || row.id.indexOf("repository-") !== 0) return;
  var fresh = document.getElementById(row.id);
  var field = fresh && fresh.querySelector("input[name=group]");
  if (field) field.focus();
});
