// appscan-bridge dashboard: shows times in the reader's time zone and makes table rows
// of findings clickable. The page works without it.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const fmt = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  });
  for (const el of document.querySelectorAll("time[datetime]")) {
    const t = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(t.getTime())) {
      el.title = el.getAttribute("datetime");
      el.textContent = fmt.format(t);
    }
  }
  // The chart's date labels say "UTC" as written; shown like every other time.
  for (const el of document.querySelectorAll("svg.chart text[data-datetime]")) {
    const t = new Date(el.getAttribute("data-datetime"));
    if (!Number.isNaN(t.getTime())) el.textContent = fmt.format(t);
  }
  // The footer says which zone the times are in; texts the server wrote (a connector's
  // "next run …Z") stay in UTC.
  const zone = document.getElementById("time-zone");
  if (zone) {
    const name = fmt.resolvedOptions().timeZone || "your time zone";
    zone.textContent = `times in ${name} (UTC on hover; state texts in UTC)`;
  }
  for (const row of document.querySelectorAll("#findings-table tbody tr")) {
    const link = row.querySelector("a[href]");
    if (!link) continue;
    row.classList.add("clickable");
    const href = link.getAttribute("href");
    // Ctrl-, Cmd- or Shift-click and the middle button open a new tab, as on the link;
    // a click that ends a text selection selects.
    const elsewhere = () => window.open(href, "_blank", "noopener");
    row.addEventListener("click", (ev) => {
      if (ev.target.closest("a") || String(window.getSelection())) return;
      if (ev.ctrlKey || ev.metaKey || ev.shiftKey) elsewhere();
      else window.location.href = href;
    });
    row.addEventListener("auxclick", (ev) => {
      if (ev.button === 1 && !ev.target.closest("a")) elsewhere();
    });
  }
  document.body.dataset.ready = "1";
});
