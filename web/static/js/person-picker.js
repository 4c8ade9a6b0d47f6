// The people picker of a face on the asset page: its name field becomes a combobox (the
// WAI-ARIA 1.2 pattern with a listbox popup and list autocomplete). As you type, the first
// people whose name matches come from GET /api/v1/people/search (the server answers a few
// at a time, never everyone); Down and Up move through them, Enter confirms the face as the
// one chosen (a click does too), Escape closes the list, and a second Escape empties the
// field. Focus stays in the field throughout (aria-activedescendant names the option).
// Without this script the field takes a whole name and "Search people by name" opens a
// page of matches (web/ui/routes/face_people.py).
// The person page's merge picker is the same: its chosen person goes into the hidden field
// named in data-chosen (`other_id`), and data-exclude leaves the person themself out.

const DELAY_MS = 150;
const LIMIT = 8;

function counted(template, n) {
  return template.replace("{count}", n.toLocaleString(document.documentElement.lang));
}

function setUp(field) {
  const input = field.querySelector("input[type=text]");
  const form = input && input.form;
  const chosen = form && form.querySelector(`input[name=${field.dataset.chosen || "person_id"}]`);
  const status = field.querySelector("[data-picker-status]");
  if (!input || !chosen || !status) return;
  const texts = field.dataset;
  const submit = form.querySelector("button[type=submit]:not([name])");

  const list = document.createElement("ul");
  list.id = `${input.id}-options`;
  list.className = "picker-options";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", texts.listLabel);
  list.hidden = true;
  input.after(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);
  field.classList.add("is-combobox");

  let options = [];
  let active = -1;
  let timer = 0;
  let request = null;
  let asked = null; // the words the shown options answer

  function setActive(index) {
    active = index;
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    if (index < 0) {
      input.removeAttribute("aria-activedescendant");
      return;
    }
    input.setAttribute("aria-activedescendant", options[index].id);
    options[index].scrollIntoView({ block: "nearest" });
  }

  function expand(open) {
    list.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
    if (!open) setActive(-1);
  }

  function show(items, more) {
    options = items.map((person, i) => {
      const option = document.createElement("li");
      option.id = `${list.id}-${i}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.id = person.id;
      option.dataset.name = person.name;
      const name = document.createElement("span");
      name.className = "picker-name";
      name.textContent = person.name;
      const photos = document.createElement("span");
      photos.className = "picker-count";
      photos.textContent = counted(
        person.photos === 1 ? texts.photosOne : texts.photosMany,
        person.photos,
      );
      option.append(name, " ", photos);
      return option;
    });
    list.replaceChildren(...options);
    active = -1;
    expand(options.length > 0 && document.activeElement === input);
    let said = options.length === 0
      ? texts.none
      : counted(options.length === 1 ? texts.foundOne : texts.foundMany, options.length);
    if (more) said += ` ${texts.more}`;
    status.textContent = said;
  }

  async function search() {
    const words = input.value.trim().replace(/\s+/g, " ");
    if (!words) {
      request?.abort();
      asked = null;
      list.replaceChildren();
      options = [];
      expand(false);
      status.textContent = "";
      return;
    }
    if (words === asked) {
      expand(options.length > 0);
      return;
    }
    request?.abort();
    request = new AbortController();
    const url = new URL(texts.searchUrl, window.location.href);
    const params = { q: words, limit: String(LIMIT) };
    if (texts.exclude) params.exclude = texts.exclude;
    url.search = new URLSearchParams(params).toString();
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        signal: request.signal,
      });
      if (!response.ok) throw new Error(String(response.status));
      const found = await response.json();
      asked = words;
      show(found.items, found.more);
    } catch (error) {
      if (error.name === "AbortError") return;
      asked = null;
      options = [];
      list.replaceChildren();
      expand(false);
      status.textContent = texts.failed;
    }
  }

  function choose(index) {
    const option = options[index];
    if (!option) return;
    input.value = option.dataset.name;
    chosen.value = option.dataset.id; // the person picked wins over the name shown
    asked = input.value.trim();
    expand(false);
    form.requestSubmit(submit);
  }

  input.addEventListener("input", () => {
    chosen.value = ""; // typing again: a name, until someone is chosen
    clearTimeout(timer);
    timer = setTimeout(search, DELAY_MS);
  });

  input.addEventListener("keydown", (event) => {
    if (event.altKey && event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const open = !list.hidden;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (!open) {
          if (options.length) {
            expand(true);
            if (!event.altKey) setActive(0);
          } else {
            clearTimeout(timer);
            search();
          }
        } else if (!event.altKey) {
          setActive(active + 1 < options.length ? active + 1 : 0);
        }
        break;
      case "ArrowUp":
        event.preventDefault();
        if (!options.length) break;
        if (!open) expand(true);
        setActive(active > 0 ? active - 1 : options.length - 1);
        break;
      case "Enter":
        if (open && active >= 0) {
          event.preventDefault();
          choose(active);
        }
        break; // otherwise the form goes with the name typed
      case "Escape":
        if (open) {
          event.preventDefault();
          event.stopPropagation(); // closing the list is all this Escape does
          expand(false);
        } else if (input.value) {
          event.preventDefault();
          input.value = "";
          chosen.value = "";
          asked = null;
          status.textContent = "";
        }
        break;
      case "Tab":
        expand(false);
        break;
      default:
    }
  });

  // A click on an option must not take focus from the field first.
  list.addEventListener("pointerdown", (event) => event.preventDefault());
  list.addEventListener("click", (event) => {
    const option = event.target.closest("[role=option]");
    if (option) choose(options.indexOf(option));
  });
  input.addEventListener("blur", () => expand(false));
}

for (const field of document.querySelectorAll("[data-person-picker]")) setUp(field);
