// The booking board: drag a card to another column to change its status. The server runs the same
// transition and permission check as the API; a refusal is shown and the card goes back.
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
  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    board.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
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
    col.querySelector(".board-cards").prepend(card);
    recount();
    say("Booking #" + answer.id + " is now " + answer.status_display.toLowerCase() + ".", true);
  }
})();
