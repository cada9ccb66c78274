// Filters the failures by text and copies a curl command; every shown value is already text.
"use strict";
(function () {
  const search = document.getElementById("failure-search");
  const failures = Array.from(document.querySelectorAll(".failure"));
  const count = document.getElementById("failure-count");
  if (search) {
    search.addEventListener("input", function () {
      const needle = search.value.toLowerCase();
      let shown = 0;
      for (const failure of failures) {
        const match = failure.textContent.toLowerCase().includes(needle);
        failure.hidden = !match;
        if (match) shown += 1;
      }
      count.textContent = shown + " of " + failures.length + " shown";
    });
  }
  for (const button of document.querySelectorAll("button.copy")) {
    button.addEventListener("click", function () {
      const text = document.getElementById(button.dataset.target).textContent;
      const done = function (message) { button.textContent = message; };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(text).then(function () { done("Copied"); }, function () { done("Select and copy"); });
      } else {
        done("Select and copy");
      }
    });
  }
})();
