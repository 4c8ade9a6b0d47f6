// Copy buttons (shares/_asset_shares.html): a button with `data-copy="<id>"` copies that
// field's text to the clipboard and says so in the live region `[data-copy-said]` beside
// it. The buttons stay hidden without scripts (the field is still selectable by hand); where
// the clipboard cannot be written, the field's text is selected for Ctrl+C instead.

for (const button of document.querySelectorAll("button[data-copy]")) {
  const field = document.getElementById(button.dataset.copy);
  if (!field) continue;
  const said = button.parentElement.querySelector("[data-copy-said]");
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      if (said) said.textContent = button.dataset.copied;
    } catch {
      field.focus();
      field.select();
      if (said) said.textContent = button.dataset.selected;
    }
  });
}
