// The task panel: the user's tasks, usable on their own. Tick a task off,
// edit it inline (title, due date, priority, tags), delete it, filter the
// list (today, upcoming, overdue, all; a tag; a search). Backed by the
// gateway's task routes, in the browser's time zone. Every text is put in
// with textContent.

const DAY = 86_400_000;

/** The browser's IANA zone, or null when it has none (or the server refused it). */
let zone = Intl.DateTimeFormat().resolvedOptions().timeZone || null;
export const browserZone = () => zone;
export function forgetZone() {
  zone = null;
}

/** A local date as YYYY-MM-DD. */
function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

const FILTERS = {
  all: () => ({}),
  today: (today) => ({ due_after: today, due_before: today, status: "pending", sort: "due" }),
  upcoming: (today, tomorrow) => ({ due_after: tomorrow, status: "pending", sort: "due" }),
  overdue: () => ({ overdue: "true", sort: "due" }),
};

/** Days from today to `due`'s local date, and its local time if it has one. */
function dueParts(due, now) {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(due);
  const at = dateOnly ? new Date(`${due}T00:00:00`) : new Date(due);
  if (Number.isNaN(at.getTime())) return null;
  const midnight = (d) => Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
  const days = Math.round((midnight(at) - midnight(now)) / DAY);
  const time = dateOnly ? "" : at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return { days, time, at, dateOnly };
}

/** "today", "tomorrow", "in 3 days", "2 days ago", with the time if any. */
export function relativeDue(due, now = new Date()) {
  const parts = dueParts(due, now);
  if (!parts) return due;
  const { days, time } = parts;
  const word =
    days === 0 ? "today" : days === 1 ? "tomorrow" : days === -1 ? "yesterday"
      : days > 1 ? `in ${days} days` : `${-days} days ago`;
  return time ? `${word} ${time}` : word;
}

function isOverdue(task, now) {
  if (task.completed || !task.due) return false;
  const parts = dueParts(task.due, now);
  if (!parts) return false;
  return parts.dateOnly ? parts.days < 0 : parts.at < now;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * The panel in `root` (the aside), talking to the API through `api` and
 * `userPath`, reporting failures with `showError`.
 */
export function taskPanel(root, { api, userPath, showError }) {
  const list = root.querySelector("#tasks");
  const search = root.querySelector("#task-search");
  const tagSelect = root.querySelector("#task-tag");
  const knownTags = new Set();
  let filter = "all";
  let searchTimer = null;

  async function request(path, options) {
    try {
      return await api(path, options);
    } catch (error) {
      if (error.status === 422 && /timezone/.test(error.message) && browserZone()) {
        forgetZone();
        return api(path.replace(/([?&])timezone=[^&]*&?/, "$1"), options);
      }
      throw error;
    }
  }

  async function refresh() {
    const now = new Date();
    const params = new URLSearchParams(
      FILTERS[filter](isoDay(now), isoDay(new Date(now.getTime() + DAY))),
    );
    if (tagSelect.value) params.set("tags", tagSelect.value);
    if (search.value.trim()) params.set("query", search.value.trim());
    if (browserZone()) params.set("timezone", browserZone());
    try {
      const response = await request(userPath(`/tasks?${params}`));
      const { tasks } = await response.json();
      render(tasks, now);
    } catch (error) {
      if (error.status === 422) {
        list.replaceChildren(element("li", "empty", error.message));
      } else if (error.status !== 401) {
        showError(error);
      }
    }
  }

  function render(tasks, now) {
    list.replaceChildren();
    for (const task of tasks) {
      for (const tag of task.tags || []) knownTags.add(tag);
      list.append(row(task, now));
    }
    if (!tasks.length) {
      const filtered = filter !== "all" || tagSelect.value || search.value.trim();
      list.append(element("li", "empty", filtered ? "No tasks match." : "No tasks yet."));
    }
    syncTags();
  }

  function syncTags() {
    const chosen = tagSelect.value;
    const options = [element("option", "", "All tags")];
    options[0].value = "";
    for (const tag of [...knownTags].sort()) {
      const option = element("option", "", tag);
      option.value = tag;
      options.push(option);
    }
    tagSelect.replaceChildren(...options);
    tagSelect.value = chosen;
  }

  function row(task, now) {
    const item = element("li", "task");
    item.dataset.id = task.id;
    item.classList.toggle("done", Boolean(task.completed));
    item.classList.toggle("overdue", isOverdue(task, now));
    const tick = element("input", "tick");
    tick.type = "checkbox";
    tick.checked = Boolean(task.completed);
    tick.setAttribute("aria-label", `${task.completed ? "Reopen" : "Complete"} “${task.title}”`);
    tick.addEventListener("change", () => change(task, { completed: tick.checked }));
    const title = element("span", "title", task.title);
    const meta = element("span", "meta");
    if (task.due) {
      const due = element("span", "due", relativeDue(task.due, now));
      due.title = task.due;
      meta.append(due);
    }
    if (task.priority && task.priority !== "none") {
      meta.append(element("span", `priority p-${task.priority}`, task.priority));
    }
    if (task.recurrence) {
      const repeat = element("span", "repeat", "↻");
      repeat.title = `Repeats: ${task.recurrence}`;
      repeat.setAttribute("aria-label", "repeats");
      meta.append(repeat);
    }
    for (const tag of task.tags || []) meta.append(element("span", "tag", tag));
    const edit = element("button", "quiet edit", "Edit");
    edit.type = "button";
    edit.setAttribute("aria-label", `Edit “${task.title}”`);
    edit.addEventListener("click", () => item.replaceWith(editor(task)));
    if (task.completed) item.setAttribute("aria-label", `${task.title} (done)`);
    item.append(tick, element("span", "id", `#${task.id}`), title, edit, meta);
    return item;
  }

  function editor(task) {
    const form = element("form", "task editor");
    form.dataset.id = task.id;
    const field = (label, input) => {
      const wrap = element("label", "", label);
      wrap.append(input);
      form.append(wrap);
      return input;
    };
    const title = field("Title", element("input"));
    title.value = task.title;
    title.required = true;
    title.maxLength = 200;
    const dateOnly = !task.due || /^\d{4}-\d{2}-\d{2}$/.test(task.due);
    const due = field("Due", element("input"));
    due.type = dateOnly ? "date" : "text";
    due.value = task.due || "";
    const priority = field("Priority", element("select"));
    for (const name of ["none", "low", "medium", "high"]) {
      const option = element("option", "", name);
      option.value = name;
      priority.append(option);
    }
    priority.value = task.priority || "none";
    const tags = field("Tags (comma-separated)", element("input"));
    tags.value = (task.tags || []).join(", ");
    const buttons = element("div", "buttons");
    const save = element("button", "", "Save");
    save.type = "submit";
    const cancel = element("button", "quiet", "Cancel");
    cancel.type = "button";
    const remove = element("button", "quiet danger", "Delete");
    remove.type = "button";
    buttons.append(save, cancel, remove);
    form.append(buttons);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const changes = {};
      if (title.value.trim() !== task.title) changes.title = title.value;
      if (due.value !== (task.due || "")) changes.due = due.value || null;
      if (priority.value !== (task.priority || "none")) changes.priority = priority.value;
      const newTags = tags.value.split(",").map((t) => t.trim()).filter(Boolean);
      if (newTags.join(",") !== (task.tags || []).join(",")) changes.tags = newTags;
      if (Object.keys(changes).length) change(task, changes);
      else refresh();
    });
    cancel.addEventListener("click", () => refresh());
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") refresh();
    });
    remove.addEventListener("click", () => {
      if (confirm(`Delete “${task.title}”?`)) destroy(task);
    });
    queueMicrotask(() => title.focus());
    return form;
  }

  async function change(task, changes) {
    try {
      await request(userPath(`/tasks/${task.id}`), {
        method: "PATCH",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(changes),
      });
    } catch (error) {
      showError(error);
    }
    await refresh();
  }

  async function destroy(task) {
    try {
      await request(userPath(`/tasks/${task.id}`), { method: "DELETE" });
    } catch (error) {
      showError(error);
    }
    await refresh();
  }

  for (const button of root.querySelectorAll("[data-filter]")) {
    button.addEventListener("click", () => {
      filter = button.dataset.filter;
      for (const other of root.querySelectorAll("[data-filter]")) {
        other.setAttribute("aria-pressed", String(other === button));
      }
      refresh();
    });
  }
  tagSelect.addEventListener("change", () => refresh());
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(refresh, 250);
  });
  return { refresh };
}
