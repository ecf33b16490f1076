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

// An action's named owner must belong to its owning agency (the server refuses any other). The owner
// list is grouped by agency; once an owning agency is chosen, only its group is offered, and an owner
// already chosen from another agency is cleared. Without JavaScript every group stays offered.
for (const owners of document.querySelectorAll("select[data-owners-of]")) {
  const agency = document.getElementById(owners.dataset.ownersOf);
  if (!agency) {
    continue;
  }
  // An option's text has its runs of spaces collapsed, a group's label not: compare them collapsed.
  const collapsed = (text) => text.replace(/\s+/g, " ").trim();
  const offerTheChosenAgencysMembers = () => {
    const chosen = agency.value ? collapsed(agency.options[agency.selectedIndex].text) : null;
    for (const group of owners.querySelectorAll("optgroup")) {
      const elsewhere = chosen !== null && collapsed(group.label) !== chosen;
      group.hidden = elsewhere;
      group.disabled = elsewhere;
    }
    const selected = owners.options[owners.selectedIndex];
    if (selected && selected.parentElement.disabled) {
      owners.value = "";
    }
  };
  agency.addEventListener("change", offerTheChosenAgencysMembers);
  offerTheChosenAgencysMembers();
}
