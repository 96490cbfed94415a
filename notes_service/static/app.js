// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const text = document.querySelector(button.dataset.copy)?.textContent ?? "";
  navigator.clipboard?.writeText(text).then(() => { button.textContent = "Copied"; });
});
document.addEventListener("submit", (event) => {
  const message = event.target.dataset?.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// Times: the server writes UTC ("2026-11-30 00:20 UTC"); show them in the reader's own time zone and
// locale instead, keeping the UTC text as a tooltip. Bad or missing datetimes are left as written.
function localTimes(root) {
  const withClock = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  const dayOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
  for (const element of root.querySelectorAll("time[datetime]")) {
    const moment = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(moment.getTime())) continue;
    element.title = element.textContent;
    element.textContent = (element.hasAttribute("data-date-only") ? dayOnly : withClock).format(moment);
  }
}
localTimes(document);
