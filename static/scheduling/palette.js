// The command palette (Ctrl+K / ⌘K) on every admin page. Its entries come from the server, already
// filtered by the user's permissions; typing filters them, ↑/↓ moves, Enter opens, Esc closes.
// "Available <type> now" entries ask the server which resources of the type are free right now.
(function () {
  "use strict";
  const root = document.getElementById("sched-palette");
  if (!root) return;
  const input = root.querySelector(".sched-palette-input");
  const list = root.querySelector(".sched-palette-list");
  const result = root.querySelector(".sched-palette-result");
  let entries = null;
  let shown = [];
  let selected = 0;

  async function load() {
    if (entries) return entries;
    const response = await fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    entries = response.ok ? (await response.json()).entries : [];
    return entries;
  }

  function matches(entry, words) {
    const text = (entry.label + " " + entry.keywords).toLowerCase();
    return words.every(function (word) { return text.includes(word); });
  }

  function render() {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    shown = (entries || []).filter(function (entry) { return matches(entry, words); });
    selected = Math.min(selected, Math.max(shown.length - 1, 0));
    list.replaceChildren();
    if (!shown.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = entries ? "No matching command." : "Loading…";
      list.append(li);
      return;
    }
    shown.forEach(function (entry, index) {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", index === selected ? "true" : "false");
      li.textContent = entry.label;
      li.addEventListener("mousemove", function () { if (selected !== index) { selected = index; render(); } });
      li.addEventListener("click", function () { selected = index; run(); });
      list.append(li);
    });
  }

  async function open() {
    root.hidden = false;
    input.value = "";
    result.replaceChildren();
    selected = 0;
    render();
    input.focus();
    await load();
    render();
  }

  function close() {
    root.hidden = true;
  }

  function link(href, text) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  async function showAvailable(entry) {
    result.textContent = "Looking…";
    const response = await fetch(entry.available_url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) { result.textContent = "Could not ask the server (" + response.status + ")."; return; }
    const answer = await response.json();
    const from = new Date(answer.start_at), to = new Date(answer.end_at);
    const time = function (d) { return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); };
    const title = document.createElement("strong");
    title.textContent = "Free " + answer.type + " now (" + time(from) + "–" + time(to) + ")";
    result.replaceChildren(title);
    if (!answer.resources.length) {
      result.append(document.createTextNode(": none is free."));
      return;
    }
    const ul = document.createElement("ul");
    answer.resources.forEach(function (resource) {
      const li = document.createElement("li");
      li.className = "sched-free-resource";
      li.append(link(resource.url, resource.name));
      if (resource.book_url) li.append(link(resource.book_url, "book"));
      ul.append(li);
    });
    result.append(ul);
  }

  function run() {
    const entry = shown[selected];
    if (!entry) return;
    if (entry.url) window.location.href = entry.url;
    else if (entry.available_url) showAvailable(entry);
  }

  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
      event.preventDefault();
      if (root.hidden) open(); else close();
      return;
    }
    if (root.hidden) return;
    if (event.key === "Escape") { close(); }
    else if (event.key === "ArrowDown") { event.preventDefault(); selected = Math.min(selected + 1, shown.length - 1); render(); }
    else if (event.key === "ArrowUp") { event.preventDefault(); selected = Math.max(selected - 1, 0); render(); }
    else if (event.key === "Enter" && document.activeElement === input) { event.preventDefault(); run(); }
  });
  input.addEventListener("input", function () { selected = 0; render(); });
  root.addEventListener("click", function (event) { if (event.target === root) close(); });
  document.querySelectorAll("[data-palette-open]").forEach(function (button) {
    button.addEventListener("click", open);
  });
})();
