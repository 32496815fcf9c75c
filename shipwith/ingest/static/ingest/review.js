// The review queue: one checkbox selects every candidate on the page.
for (const all of document.querySelectorAll("input.select-all")) {
  all.addEventListener("change", () => {
    for (const box of all.form.querySelectorAll("input[name=ids]")) {
      box.checked = all.checked;
    }
  });
}
