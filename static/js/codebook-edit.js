/* Faultline codebook editor: the "Under" select of "Add a category" offers only the
   categories of the dimension chosen above it (a parent from another dimension is
   refused anyway). The page lists every dimension's group; without script all stay. */
(function () {
  "use strict";

  function init() {
    var dimension = document.getElementById("add-dimension");
    var parent = document.getElementById("add-parent");
    if (!dimension || !parent) { return; }
    var groups = Array.prototype.slice.call(parent.querySelectorAll("optgroup[data-dimension]"));

    function offerChosen() {
      var chosen = parent.value;
      groups.forEach(function (group) { group.remove(); });
      groups.forEach(function (group) {
        if (group.dataset.dimension === dimension.value) { parent.appendChild(group); }
      });
      // A parent of another dimension is gone: back to the top level.
      parent.value = chosen;
      if (parent.value !== chosen) { parent.value = ""; }
    }

    dimension.addEventListener("change", offerChosen);
    offerChosen();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
