// Progressive enhancement for vote forms: submit with fetch and swap in the updated widget and
// community figures, no reload; fill in the reader's own votes on shared (cached) pages.
// Without this file the forms POST and redirect back. Loaded as a module: it runs once however
// many forms a page has.

const parse = (html) => {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content;
};

const swapWidget = (widget, html, focus) => {
  const replacement = parse(html).querySelector("[data-votes-widget]");
  if (!replacement) return null;
  replacement.querySelectorAll("script").forEach((script) => script.remove());
  widget.replaceWith(replacement);
  if (focus) {
    const button = replacement.querySelector("button[aria-pressed=true]") || replacement.querySelector("button");
    if (button) button.focus();
  }
  return replacement;
};

const swapFigures = (figures, except) => {
  for (const [toolId, html] of Object.entries(figures || {})) {
    document.querySelectorAll(`[data-votes-figure="${CSS.escape(toolId)}"]`).forEach((figure) => {
      if (except && except.contains(figure)) return;
      const node = parse(html).firstElementChild;
      if (node) figure.replaceWith(node);
    });
  }
};

const say = (widget, text) => {
  const line = widget.querySelector("[data-votes-status]");
  if (line) line.textContent = text;
};

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-votes-form]");
  if (!form) return;
  event.preventDefault();
  const widget = form.closest("[data-votes-widget]");
  const submitter = event.submitter;
  const body = new FormData(form);
  if (submitter && submitter.name) body.append(submitter.name, submitter.value);
  const action = submitter && submitter.hasAttribute("formaction") ? submitter.formAction : form.action;
  const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const buttons = form.querySelectorAll("button");
  buttons.forEach((button) => { button.disabled = true; });
  let response = null;
  let data = null;
  try {
    response = await fetch(action, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, Accept: "application/json" },
    });
    data = await response.json();
  } catch {
    data = null;
  }
  buttons.forEach((button) => { button.disabled = false; });
  if (!response || !response.ok || !data || !data.html) {
    say(widget, (data && data.error) || "Your vote was not recorded; please try again.");
    return;
  }
  const replacement = swapWidget(widget, data.html, true);
  swapFigures(data.figures, replacement);
});

// Shared pages show the same form to everyone: ask for this reader's own votes.
if (document.cookie.split("; ").includes("shipwith_voted=1")) {
  document.querySelectorAll("[data-votes-widget][data-votes-state]").forEach(async (widget) => {
    try {
      const response = await fetch(widget.dataset.votesState, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) return;
      const data = await response.json();
      const token = widget.querySelector("input[name=csrfmiddlewaretoken]");
      const replacement = swapWidget(widget, data.html, false);
      const fresh = replacement && replacement.querySelector("input[name=csrfmiddlewaretoken]");
      if (token && fresh) fresh.value = token.value;  // keep the token the page was served with
    } catch {
      // The shared form still works.
    }
  });
}
