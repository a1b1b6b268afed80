// What every page shares: the token box at the bottom (optional; lets a submit token see its own
// unpublished and running runs) and a guard that turns an unexpected error into a message.
import { describeFailure, savedToken, saveToken } from "./api.ts";
import { add, h, main, showMessage } from "./dom.ts";

function tokenBox(): HTMLElement {
  const input = h("input", {
    type: "password",
    name: "token",
    placeholder: "evt_…",
    autocomplete: "off",
    "aria-label": "API token",
  });
  const status = h("span", { className: "muted" }, savedToken() ? "A token is saved." : "");
  const form = h(
    "form",
    {
      className: "token-form",
      onsubmit: ((event: Event) => {
        event.preventDefault();
        saveToken(input.value.trim() || null);
        location.reload();
      }) as EventListener,
    },
    input,
    h("button", { type: "submit" }, "Save"),
    h(
      "button",
      {
        type: "button",
        onclick: (() => {
          saveToken(null);
          location.reload();
        }) as EventListener,
      },
      "Clear",
    ),
    status,
  );
  return h(
    "details",
    { className: "token" },
    h("summary", {}, "API token (to see your unpublished runs)"),
    h(
      "p",
      { className: "muted" },
      "Published runs are public. A submit token, kept only in this browser, also shows runs that are still going or not yet published.",
    ),
    form,
  );
}

/** Runs a page: adds the shared footer, then `render`; a failure becomes a message, not a blank page. */
export function page(what: string, render: (container: HTMLElement) => Promise<void>): void {
  const container = main();
  const footer = document.querySelector("footer");
  if (footer) add(footer, tokenBox());
  render(container).catch((error) => {
    showMessage(container, `Could not show ${what}`, describeFailure(error, what));
  });
}
