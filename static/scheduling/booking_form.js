// The booking form's time zones (docs/spec.md §12.1): times are typed in the resource's zone or the
// user's own (a switch); the same instant is shown beside in the other zone, and switching converts
// the typed values so the booking does not move. A duration picker sets the end from the start.
(function () {
  "use strict";
  // Form media load in the page's head: wait for the form.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();

  function init() {
  const radios = Array.from(document.querySelectorAll("input[name=input_zone]"));
  const resource = document.getElementById("id_resource");
  const fields = { start: ["id_start_at_0", "id_start_at_1"], end: ["id_end_at_0", "id_end_at_1"] };
  const input = function (id) { return document.getElementById(id); };
  if (!radios.length || !input(fields.start[0]) || !input(fields.end[0])) return;
  const myZone = radios[0].dataset.myZone;

  // Offset of `zone` at the instant `ms`, in milliseconds (what Intl's wall clock says minus UTC).
  function offset(ms, zone) {
    const parts = {};
    new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(new Date(ms)).forEach(function (p) { parts[p.type] = Number(p.value); });
    return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second) - ms;
  }
  function read(pair, zone) {
    const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(input(pair[0]).value.trim());
    const t = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(input(pair[1]).value.trim());
    if (!d || !t) return null;
    const wall = Date.UTC(+d[1], +d[2] - 1, +d[3], +t[1], +t[2], +(t[3] || 0));
    let ms = wall - offset(wall, zone);
    ms = wall - offset(ms, zone);  // the second pass settles instants near a DST change
    return ms;
  }
  function wall(ms, zone) {
    const shifted = new Date(ms + offset(ms, zone));
    const pad = function (n) { return String(n).padStart(2, "0"); };
    return {
      date: shifted.getUTCFullYear() + "-" + pad(shifted.getUTCMonth() + 1) + "-" + pad(shifted.getUTCDate()),
      time: pad(shifted.getUTCHours()) + ":" + pad(shifted.getUTCMinutes()),
      label: shifted.toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }).replace(",", "") + " " + pad(shifted.getUTCHours()) + ":" + pad(shifted.getUTCMinutes()),
    };
  }
  function write(pair, ms, zone) {
    const w = wall(ms, zone);
    input(pair[0]).value = w.date;
    input(pair[1]).value = w.time;
  }
  function resourceZone() {
    const option = resource && resource.selectedOptions[0];
    return option && option.dataset.zone ? option.dataset.zone : null;
  }
  function mode() {
    const checked = radios.find(function (r) { return r.checked; });
    return checked ? checked.value : "mine";
  }
  function typedZone(m) { return (m || mode()) === "resource" ? resourceZone() || myZone : myZone; }
  function otherZone() { return mode() === "resource" ? myZone : resourceZone(); }

  const preview = document.createElement("p");
  preview.className = "sched-zone-other help";
  preview.setAttribute("aria-live", "polite");
  const endRow = input(fields.end[0]).closest(".form-row") || input(fields.end[0]).parentNode;
  endRow.after(preview);

  const resourceLabel = radios[0].closest("label");
  const resourceLabelText = resourceLabel ? resourceLabel.lastChild.textContent.replace(/ \(.*\)$/, "") : "";

  function show() {
    const typed = typedZone(), other = otherZone();
    // Name the resource's zone on its switch as soon as a resource is chosen.
    if (resourceLabel && resourceLabel.lastChild.nodeType === Node.TEXT_NODE) {
      resourceLabel.lastChild.textContent = resourceLabelText + (resourceZone() ? " (" + resourceZone() + ")" : "");
    }
    const start = read(fields.start, typed), end = read(fields.end, typed);
    if (!other || other === typed) {
      preview.textContent = resourceZone() ? "The resource is in your time zone (" + typed + ")." : "";
      return;
    }
    if (start === null) { preview.textContent = ""; return; }
    const whose = other === myZone ? "your time zone" : "the resource's time zone";
    const s = wall(start, other);
    preview.textContent = "In " + whose + " (" + other + "): " + s.label + (end !== null ? " – " + wall(end, other).label : "");
  }

  let lastMode = mode();
  radios.forEach(function (radio) {
    radio.addEventListener("change", function () {
      const from = typedZone(lastMode), to = typedZone();
      lastMode = mode();
      [fields.start, fields.end].forEach(function (pair) {
        const ms = read(pair, from);
        if (ms !== null && from !== to) write(pair, ms, to);
      });
      show();
    });
  });

  // Duration: the end follows the start.
  const durations = [15, 30, 45, 60, 90, 120, 180, 240, 480];
  const picker = document.createElement("select");
  picker.id = "id_duration";
  picker.setAttribute("aria-label", "Duration");
  picker.innerHTML = '<option value="">Duration…</option>' + durations.map(function (m) {
    return '<option value="' + m + '">' + (m < 60 ? m + " min" : (m / 60) + " h") + "</option>";
  }).join("");
  const label = document.createElement("label");
  label.htmlFor = picker.id;
  label.textContent = " or set the duration: ";
  input(fields.end[1]).parentNode.append(label, picker);
  picker.addEventListener("change", function () {
    const zone = typedZone();
    const start = read(fields.start, zone);
    if (start === null || !picker.value) return;
    write(fields.end, start + Number(picker.value) * 60000, zone);
    show();
  });

  // A refused time's alternatives (the page lists them): a click puts one in the form.
  document.querySelectorAll(".sched-suggestion").forEach(function (button) {
    button.addEventListener("click", function () {
      if (resource && button.dataset.resource) {
        resource.value = button.dataset.resource;
        resource.dispatchEvent(new Event("change", { bubbles: true }));
      }
      const zone = typedZone();
      write(fields.start, Date.parse(button.dataset.start), zone);
      write(fields.end, Date.parse(button.dataset.end), zone);
      show();
      const save = document.querySelector("input[name=_save]");
      if (save) save.focus();
    });
  });

  [resource].concat(fields.start.concat(fields.end).map(input)).forEach(function (el) {
    if (el) { el.addEventListener("change", show); el.addEventListener("input", show); }
  });
  show();
  }
})();
