// Behaviour every console page shares. No inline scripts: the CSP allows only files from here.
(() => {
  "use strict";
  // A keyboard-wedge scanner types the code and Enter into whatever has focus: give it the search
  // box on pages with nothing else to type into.
  document.addEventListener("DOMContentLoaded", () => {
    const search = document.querySelector("form.search input[name=q]");
    const active = document.activeElement;
    if (search && (!active || active === document.body)) search.focus();
  });
})();
