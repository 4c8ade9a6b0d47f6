// The People page: filter the named people as you type, and count the selected groups.
// Without scripts the filter is a plain search form and the check boxes still post.

const filter = document.getElementById("people-filter");
const list = document.getElementById("people-list");
const count = document.getElementById("people-count");

function counted(element, n) {
  return n === 1
    ? element.dataset.templateOne
    : element.dataset.templateMany.replace("{count}", String(n));
}

if (filter && list && count) {
  const cards = [...list.querySelectorAll(".person-card")];
  const apply = () => {
    const needle = filter.value.trim().replace(/\s+/g, " ").toLowerCase();
    let shown = 0;
    for (const card of cards) {
      const match = !needle || card.dataset.name.includes(needle);
      card.hidden = !match;
      if (match) shown += 1;
    }
    count.textContent = counted(count, shown);
  };
  filter.addEventListener("input", apply);
  // Typing filters at once; Enter would only reload the same list.
  filter.form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
}

const groups = document.getElementById("groups");
const selection = document.getElementById("group-selection");
if (groups && selection) {
  const refresh = () => {
    const boxes = [...groups.querySelectorAll("input.select")];
    for (const box of boxes) box.closest(".group").classList.toggle("selected", box.checked);
    selection.textContent = counted(selection, boxes.filter((b) => b.checked).length);
  };
  groups.addEventListener("change", refresh);
  refresh();
}
