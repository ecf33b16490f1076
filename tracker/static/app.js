// Loaded as a module, so only browsers that GOV.UK Frontend supports run it.
// Inline scripts are forbidden by the Content Security Policy, so this replaces the template's one.
import { initAll } from "./govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

// A table wider than the window scrolls sideways inside its .app-table-scroll container (on a phone,
// or zoomed in). Keyboard users can scroll it only if it takes focus, so a container that scrolls is
// made a focusable region named by its table's caption; one that does not scroll is left out of the
// tab order. Checked again when the window changes size and when a details element opens.
function focusableWhenScrolling() {
  for (const container of document.querySelectorAll(".app-table-scroll")) {
    if (container.scrollWidth > container.clientWidth) {
      const caption = container.querySelector("caption");
      container.setAttribute("tabindex", "0");
      container.setAttribute("role", "region");
      container.setAttribute("aria-label", (caption && caption.textContent.trim()) || "Table");
    } else {
      for (const name of ["tabindex", "role", "aria-label"]) {
        container.removeAttribute(name);
      }
    }
  }
}

focusableWhenScrolling();
window.addEventListener("resize", focusableWhenScrolling);
document.addEventListener("toggle", focusableWhenScrolling, true);
