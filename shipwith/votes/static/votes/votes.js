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

// `details` (when given) replace the figures shown with their interval, `figures` the others.
const swapFigures = (figures, except, details) => {
  for (const [toolId, html] of Object.entries(figures || {})) {
    document.querySelectorAll(`[data-votes-figure="${CSS.escape(toolId)}"]`).forEach((figure) => {
      if (except && except.contains(figure)) return;
      const detailed = details && figure.hasAttribute("data-votes-detail") && details[toolId];
      const node = parse(detailed || html).firstElementChild;
      if (node) figure.replaceWith(node);
    });
  }
};

// A ship/skip vote answers with the reader's vote only: show it in the widget as it stands.
const showVote = (widget, current) => {
  widget.querySelectorAll("button[name=value]").forEach((button) => {
    button.setAttribute("aria-pressed", String(button.value === current));
  });
  const withdraw = widget.querySelector(".votes-withdraw");
  if (withdraw) withdraw.hidden = !current;
  say(widget, current ? `Your vote: ${current}.` : `You have not voted on ${widget.dataset.votesName}.`);
  const pressed = widget.querySelector("button[aria-pressed=true]") || widget.querySelector("button");
  if (pressed) pressed.focus();
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
  // Shared pages carry no CSRF token: the browser's Sec-Fetch-Site tells the server the post
  // comes from its own pages. The reader's own vote page still has one; send it along.
  const token = form.querySelector("input[name=csrfmiddlewaretoken]");
  const headers = { Accept: "application/json" };
  if (token) headers["X-CSRFToken"] = token.value;
  const buttons = form.querySelectorAll("button");
  buttons.forEach((button) => { button.disabled = true; });
  let response = null;
  let data = null;
  try {
    response = await fetch(action, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers,
    });
    data = await response.json();
  } catch {
    data = null;
  }
  buttons.forEach((button) => { button.disabled = false; });
  if (!response || !response.ok || !data || !(data.html || "current" in data)) {
    say(widget, (data && data.error) || "Your vote was not recorded; please try again.");
    return;
  }
  if ("current" in data) {
    showVote(widget, data.current);
    swapFigures(data.figures, null, data.details);
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
      swapWidget(widget, data.html, false);
    } catch {
      // The shared form still works.
    }
  });
}
