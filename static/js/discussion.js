// The discussion thread's reply form: Ctrl+Enter (or Cmd+Enter) in the reply sends it.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var form = event.target.closest && event.target.closest("[data-thread-form]");
    if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.stopPropagation();
      form.requestSubmit();
    }
  }, true);
})();
