// The booking board: drag a card to another column, or pick a status from the card's menu (keyboard
// and touch), to change its status. The server runs the same transition and permission check as
// the API; a refusal is shown and the card stays where it was.
(function () {
  "use strict";
  const board = document.querySelector(".board");
  if (!board) return;
  const message = document.querySelector(".board-message");
  const csrf = board.querySelector("input[name=csrfmiddlewaretoken]").value;
  let dragged = null;

  function say(text, ok) {
    message.textContent = text;
    message.classList.toggle("ok", Boolean(ok));
    message.hidden = false;
  }

  function recount() {
    board.querySelectorAll(".board-col").forEach(function (col) {
      const shown = col.querySelectorAll(".board-card").length;
      const count = col.querySelector(".board-count");
      const hidden = Number(count.dataset.hidden || 0);
      count.textContent = shown + hidden;
    });
  }

  board.querySelectorAll(".board-col").forEach(function (col) {
    const count = col.querySelector(".board-count");
    count.dataset.hidden = Number(count.textContent) - col.querySelectorAll(".board-card").length;
  });

  board.addEventListener("dragstart", function (event) {
    const card = event.target.closest(".board-card[draggable=true]");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.booking);
  });
  // `drop` forgets the dragged card before `dragend` fires, so the faded state is cleared by class,
  // not through `dragged`: after any drag, dropped or not, no card stays faded.
  board.addEventListener("dragend", function () {
    board.querySelectorAll(".dragging").forEach(function (c) { c.classList.remove("dragging"); });
    board.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
    dragged = null;
  });

  board.querySelectorAll(".board-col").forEach(function (col) {
    col.addEventListener("dragover", function (event) {
      if (!dragged) return;
      event.preventDefault();
      col.classList.add("drop-target");
    });
    col.addEventListener("dragleave", function () { col.classList.remove("drop-target"); });
    col.addEventListener("drop", function (event) {
      event.preventDefault();
      col.classList.remove("drop-target");
      const card = dragged;
      dragged = null;
      if (!card || card.closest(".board-col") === col) return;
      move(card, col);
    });
  });

  async function move(card, col) {
    const url = board.dataset.transitionUrl.replace("/0/", "/" + card.dataset.booking + "/");
    const body = new FormData();
    body.append("to_status", col.dataset.status);
    let answer = {};
    let response;
    try {
      response = await fetch(url, { method: "POST", body: body, headers: { "X-CSRFToken": csrf }, credentials: "same-origin" });
      answer = await response.json().catch(function () { return {}; });
    } catch (error) {
      say("The server could not be reached; nothing changed.");
      return;
    }
    if (!response.ok) {
      const fallback = response.status === 404 ? "This booking no longer exists or is not visible to you." : "The move was refused.";
      say("Not moved: " + (answer.error || fallback));
      return;
    }
    card.className = card.className.replace(/status-\S+/, "status-" + answer.status);
    card.dataset.status = answer.status;
    const label = card.querySelector(".board-status-label");
    if (label) label.textContent = answer.status_display;
    const hadFocus = card.contains(document.activeElement);
    col.querySelector(".board-cards").prepend(card);
    if (hadFocus) card.focus();  // moving a node drops its focus: keep the keyboard user's place
    recount();
    say("Booking #" + answer.id + " is now " + answer.status_display.toLowerCase() + ".", true);
  }

  // --- The status menu: a button per card, a menu of the life cycle's next statuses ---------------
  const transitions = JSON.parse(document.getElementById("board-transitions").textContent);
  let menu = null;

  function closeMenu(focusBack) {
    if (!menu) return;
    const button = menu.previousElementSibling;
    menu.remove();
    menu = null;
    if (button) {
      button.setAttribute("aria-expanded", "false");
      if (focusBack) button.focus();
    }
  }

  function openMenu(card) {
    closeMenu(false);
    const button = card.querySelector(".board-status-button");
    if (!button) return;
    const targets = transitions[card.dataset.status] || [];
    menu = document.createElement("ul");
    menu.className = "board-menu";
    menu.setAttribute("role", "menu");
    menu.setAttribute("aria-label", "Move booking #" + card.dataset.booking + " to");
    if (!targets.length) {
      const none = document.createElement("li");
      none.textContent = "No further status.";
      none.setAttribute("role", "none");
      menu.append(none);
    }
    targets.forEach(function (target) {
      const item = document.createElement("li");
      item.setAttribute("role", "menuitem");
      item.tabIndex = -1;
      item.dataset.status = target[0];
      item.textContent = target[1];
      menu.append(item);
    });
    button.after(menu);
    button.setAttribute("aria-expanded", "true");
    const first = menu.querySelector("[role=menuitem]");
    (first || button).focus();
  }

  function choose(item) {
    const card = item.closest(".board-card");
    const col = board.querySelector('.board-col[data-status="' + item.dataset.status + '"]');
    closeMenu(false);
    card.focus();
    if (col) move(card, col);
  }

  board.addEventListener("click", function (event) {
    const item = event.target.closest(".board-menu [role=menuitem]");
    if (item) { choose(item); return; }
    const button = event.target.closest(".board-status-button");
    if (button) {
      if (button.getAttribute("aria-expanded") === "true") closeMenu(true);
      else openMenu(button.closest(".board-card"));
    }
  });
  document.addEventListener("click", function (event) {
    if (menu && !event.target.closest(".board-menu, .board-status-button")) closeMenu(false);
  });

  board.addEventListener("keydown", function (event) {
    if (menu && menu.contains(event.target)) {
      const items = Array.from(menu.querySelectorAll("[role=menuitem]"));
      const at = items.indexOf(event.target);
      if (event.key === "ArrowDown") { event.preventDefault(); items[(at + 1) % items.length].focus(); }
      else if (event.key === "ArrowUp") { event.preventDefault(); items[(at - 1 + items.length) % items.length].focus(); }
      else if (event.key === "Enter" || event.key === " ") { event.preventDefault(); choose(event.target); }
      else if (event.key === "Escape" || event.key === "Tab") { closeMenu(event.key === "Escape"); }
      return;
    }
    // Enter or Space on a focused card opens its menu (the card itself, not its link or button).
    const card = event.target.classList && event.target.classList.contains("board-card") ? event.target : null;
    if (card && (event.key === "Enter" || event.key === " ") && card.querySelector(".board-status-button")) {
      event.preventDefault();
      openMenu(card);
    } else if (event.key === "Escape") {
      closeMenu(true);
    }
  });
})();
