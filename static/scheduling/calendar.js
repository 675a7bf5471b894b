// The resource calendar: clicking an empty hour of a row you may book opens the add-booking form
// prefilled with that resource and hour. The hours come from the server (#cal-slots), so DST days
// have 23 or 25 of them, each as wide as any other real hour.
(function () {
  "use strict";
  const cal = document.querySelector(".cal");
  const slotsNode = document.getElementById("cal-slots");
  if (!cal || !slotsNode) return;
  const slots = JSON.parse(slotsNode.textContent);
  const hours = slots.length - 1;
  const addUrl = cal.dataset.addUrl;

  function slotAt(track, clientX) {
    const box = track.getBoundingClientRect();
    const index = Math.floor(((clientX - box.left) / box.width) * hours);
    return Math.min(Math.max(index, 0), hours - 1);
  }

  function addLink(row, index) {
    const query = new URLSearchParams({
      resource: row.dataset.resource,
      start_at: slots[index].at,
      end_at: slots[index + 1].at,
    });
    return addUrl + "?" + query.toString();
  }

  const ghost = document.createElement("span");
  ghost.className = "cal-ghost";

  cal.querySelectorAll(".cal-row[data-bookable] .cal-track").forEach(function (track) {
    const row = track.closest(".cal-row");
    // The hours the booking rules accept (server-side: buffers, notice, horizon, durations, grid).
    const open = new Set((row.dataset.open || "").split(" ").filter(Boolean).map(Number));
    track.addEventListener("click", function (event) {
      if (event.target.closest(".cal-booking, .cal-exception")) return;
      const index = slotAt(track, event.clientX);
      if (open.has(index)) window.location.href = addLink(row, index);
    });
    track.addEventListener("mousemove", function (event) {
      if (event.target.closest(".cal-booking, .cal-exception")) { ghost.remove(); return; }
      const index = slotAt(track, event.clientX);
      if (!open.has(index)) { ghost.remove(); return; }
      ghost.style.left = (100 * index / hours) + "%";
      ghost.style.width = (100 / hours) + "%";
      ghost.textContent = "+ " + slots[index].label;
      if (ghost.parentNode !== track) track.appendChild(ghost);
    });
    track.addEventListener("mouseleave", function () { ghost.remove(); });
  });
})();

// Moving a booking (docs/spec.md §12.9): drag it along its row (time) or onto another row
// (resource), drag its right edge (length), or focus it and use Alt+arrows. Every move is one POST
// to the booking service's edit, the same decision as the form; a refused move snaps back and the
// message bar says why.
(function () {
  "use strict";
  const cal = document.querySelector(".cal");
  const slotsNode = document.getElementById("cal-slots");
  if (!cal || !slotsNode || !cal.dataset.moveUrl) return;
  const slots = JSON.parse(slotsNode.textContent);
  const rangeStart = Date.parse(slots[0].at);
  const rangeMs = Date.parse(slots[slots.length - 1].at) - rangeStart;
  const SNAP = 15 * 60000;
  const KEY_STEP = cal.dataset.view === "week" ? 60 * 60000 : SNAP;
  const message = document.querySelector(".cal-message");
  const csrfInput = document.querySelector("input[name=csrfmiddlewaretoken]");
  const csrf = csrfInput ? csrfInput.value : "";
  const MOVABLE = ".cal-row[data-bookable] .cal-booking.status-pending, .cal-row[data-bookable] .cal-booking.status-confirmed";

  function say(text, ok) {
    message.textContent = text;
    message.classList.toggle("ok", Boolean(ok));
    message.hidden = false;
  }
  function place(block, start, end) {
    const left = Math.max(0, (start - rangeStart) / rangeMs);
    const right = Math.min(1, (end - rangeStart) / rangeMs);
    block.style.left = (100 * left).toFixed(4) + "%";
    block.style.width = (100 * Math.max(right - left, 0)).toFixed(4) + "%";
  }
  function snap(ms) { return Math.round(ms / SNAP) * SNAP; }
  function rowOf(el) { return el.closest(".cal-row"); }

  async function send(block, start, end, row, before) {
    const body = new FormData();
    body.append("start_at", new Date(start).toISOString());
    body.append("end_at", new Date(end).toISOString());
    body.append("resource", row.dataset.resource);
    let response, answer = {};
    try {
      response = await fetch(cal.dataset.moveUrl.replace("/0/", "/" + block.dataset.booking + "/"), {
        method: "POST", body: body, headers: { "X-CSRFToken": csrf }, credentials: "same-origin",
      });
      answer = await response.json().catch(function () { return {}; });
    } catch (error) {
      answer = { error: "The server could not be reached; nothing changed." };
    }
    if (!response || !response.ok) {
      // Snap back: the row, the place and the times it had.
      before.row.querySelector(".cal-track").appendChild(block);
      block.style.left = before.left;
      block.style.width = before.width;
      say("Not moved: " + (answer.error || "the move was refused."));
      return false;
    }
    block.dataset.start = answer.start_at;
    block.dataset.end = answer.end_at;
    const time = block.querySelector(".cal-time");
    const hhmm = answer.label.match(/(\d{2}:\d{2})/);
    if (time && hhmm) time.textContent = hhmm[1];
    say("Booking #" + answer.id + " now " + answer.label + " on " + row.dataset.resourceName + ".", true);
    return true;
  }

  function snapshot(block) {
    return { row: rowOf(block), left: block.style.left, width: block.style.width };
  }

  // --- Pointer: mouse, pen and touch -----------------------------------------------------------
  let drag = null;
  // The blocks are links, which the browser would drag as URLs: our pointer drag replaces that.
  cal.addEventListener("dragstart", function (event) {
    if (event.target.closest && event.target.closest(".cal-booking")) event.preventDefault();
  });
  cal.addEventListener("pointerdown", function (event) {
    const block = event.target.closest(MOVABLE);
    if (!block || event.button !== 0) return;
    const track = block.closest(".cal-track");
    drag = {
      block: block, before: snapshot(block), x: event.clientX, y: event.clientY, moved: false,
      resize: Boolean(event.target.closest(".cal-resize")), width: track.getBoundingClientRect().width,
      start: Date.parse(block.dataset.start), end: Date.parse(block.dataset.end), row: rowOf(block),
    };
    block.setPointerCapture(event.pointerId);
  });
  cal.addEventListener("pointermove", function (event) {
    if (!drag) return;
    const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) < 4 && Math.abs(dy) < 4) return;
    drag.moved = true;
    drag.block.classList.add("cal-moving");
    const delta = snap((dx / drag.width) * rangeMs);
    if (drag.resize) {
      drag.newStart = drag.start;
      drag.newEnd = Math.max(drag.start + SNAP, drag.end + delta);
    } else {
      drag.newStart = drag.start + delta;
      drag.newEnd = drag.end + delta;
      const under = document.elementsFromPoint(event.clientX, event.clientY).map(rowOf).find(function (r) { return r && r.hasAttribute("data-bookable"); });
      if (under && under !== drag.row) {
        drag.row = under;
        under.querySelector(".cal-track").appendChild(drag.block);
      }
    }
    place(drag.block, drag.newStart, drag.newEnd);
  });
  function finish(event) {
    if (!drag) return;
    const done = drag;
    drag = null;
    done.block.classList.remove("cal-moving");
    if (!done.moved) return;
    done.block.dataset.justDragged = "1";
    if (done.newStart === done.start && done.newEnd === done.end && done.row === done.before.row) return;
    send(done.block, done.newStart, done.newEnd, done.row, done.before);
  }
  cal.addEventListener("pointerup", finish);
  cal.addEventListener("pointercancel", function () {
    if (!drag) return;
    const done = drag;
    drag = null;
    done.block.classList.remove("cal-moving");
    done.before.row.querySelector(".cal-track").appendChild(done.block);
    done.block.style.left = done.before.left;
    done.block.style.width = done.before.width;
  });
  // A drag is not a click: do not open the booking after moving it.
  cal.addEventListener("click", function (event) {
    const block = event.target.closest(".cal-booking");
    if (block && block.dataset.justDragged) {
      event.preventDefault();
      event.stopPropagation();
      delete block.dataset.justDragged;
    }
  }, true);

  // --- Keyboard: Alt+←/→ moves, Alt+↑/↓ changes the row, Alt+Shift+←/→ changes the length --------
  cal.addEventListener("keydown", function (event) {
    const block = event.target.closest(MOVABLE);
    if (!block || !event.altKey || !["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].includes(event.key)) return;
    event.preventDefault();
    const before = snapshot(block);
    let start = Date.parse(block.dataset.start), end = Date.parse(block.dataset.end), row = rowOf(block);
    const sign = event.key === "ArrowLeft" || event.key === "ArrowUp" ? -1 : 1;
    if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      const rows = Array.from(cal.querySelectorAll(".cal-row[data-bookable]"));
      const next = rows[rows.indexOf(row) + sign];
      if (!next) return;
      row = next;
      row.querySelector(".cal-track").appendChild(block);
    } else if (event.shiftKey) {
      end = Math.max(start + SNAP, end + sign * KEY_STEP);
    } else {
      start += sign * KEY_STEP;
      end += sign * KEY_STEP;
    }
    place(block, start, end);
    block.focus();
    send(block, start, end, row, before).then(function () { block.focus(); });
  });
})();
