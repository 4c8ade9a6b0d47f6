// The People page: count the selected groups. The named people are searched and paged by
// the server (a plain GET form); the check boxes post without scripts too.

function counted(element, n) {
  return n === 1
    ? element.dataset.templateOne
    : element.dataset.templateMany.replace("{count}", n.toLocaleString(document.documentElement.lang));
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
