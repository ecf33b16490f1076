// Loaded as a module, so only browsers that GOV.UK Frontend supports run it.
// Inline scripts are forbidden by the Content Security Policy, so this replaces the template's one.
import { initAll } from "./govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
