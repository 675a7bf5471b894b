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
