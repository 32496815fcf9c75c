// Progressive enhancement for vote forms: submit with fetch, swap in the updated widget and
// community figures, no reload. Without this file the forms POST and redirect back.
// Loaded as a module, so it runs once however many forms a page has.

const status = (widget, text) => {
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
  form.querySelectorAll("button").forEach((button) => { button.disabled = true; });
  let response;
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
  form.querySelectorAll("button").forEach((button) => { button.disabled = false; });
  if (!response || !response.ok || !data) {
    status(widget, (data && data.error) || "Your vote was not recorded; please try again.");
    return;
  }
  const fresh = document.createElement("template");
  fresh.innerHTML = data.html.trim();
  const replacement = fresh.content.querySelector("[data-votes-widget]");
  if (replacement) {
    replacement.querySelectorAll("script").forEach((script) => script.remove());
    widget.replaceWith(replacement);
    const focus = replacement.querySelector("button[aria-pressed=true]") || replacement.querySelector("button");
    if (focus) focus.focus();
  }
  for (const [toolId, html] of Object.entries(data.figures || {})) {
    document.querySelectorAll(`[data-votes-figure="${CSS.escape(toolId)}"]`).forEach((figure) => {
      if (replacement && replacement.contains(figure)) return;
      const swap = document.createElement("template");
      swap.innerHTML = html.trim();
      const detailed = figure.querySelector(".figure-interval");
      const node = swap.content.firstElementChild;
      // Card figures stay compact: drop the interval unless the old one showed it.
      if (!detailed) node.querySelectorAll(".figure-interval").forEach((span) => span.remove());
      figure.replaceWith(node);
    });
  }
});
