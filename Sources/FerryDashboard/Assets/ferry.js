// Ferry's dashboard: small enhancements over server-rendered pages, which work without this file.

// Buttons with data-copy="<input id>" copy that field's value.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  try {
    await navigator.clipboard.writeText(field.value);
    button.textContent = "Copied";
  } catch {
    field.select();
    button.textContent = "Press Ctrl+C";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
});

// Forms with data-confirm ask before they are sent.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

// After the dashboard sent an event, [data-delivery-state] says how its first finished attempt went.
function sayDeliveryState(row) {
  const state = document.querySelector("[data-delivery-state]");
  const status = row.querySelector(".status");
  if (!state || !status || state.dataset.done) return;
  const http = row.cells[1]?.textContent.trim();
  if (status.classList.contains("status-successful")) {
    state.textContent = `Delivered: ${status.textContent.trim()}, HTTP ${http}. The receiver answered with a 2xx status.`;
  } else if (status.classList.contains("status-failed")) {
    state.textContent = `This attempt failed (HTTP ${http}). Open it to see the receiver's answer; Ferry retries on its schedule.`;
  } else {
    return;
  }
  state.dataset.done = "true";
}

// A table with data-live="<stream URL>" follows a Server-Sent Events stream of its rows: each message is one row
// (a <tr data-id>), which replaces the row with that id or goes on top. EventSource reconnects by itself and sends
// the last message id back, so the server can send what was missed.
const live = document.querySelector("table[data-live]");
if (live && window.EventSource) {
  const body = live.tBodies[0];
  const state = live.querySelector("[data-live-state]");
  const source = new EventSource(live.dataset.live);
  const say = (text) => { if (state) state.textContent = text; };
  source.addEventListener("open", () => say("Live"));
  source.addEventListener("error", () => say("Reconnecting…"));
  source.addEventListener("attempt", (message) => {
    const holder = document.createElement("tbody");
    holder.innerHTML = message.data;
    const row = holder.querySelector("tr[data-id]");
    if (!row) return;
    const current = body.querySelector(`tr[data-id="${CSS.escape(row.dataset.id)}"]`);
    if (current) {
      current.replaceWith(row);
    } else {
      body.insertBefore(row, body.firstChild);
    }
    row.classList.add("changed");
    document.querySelector("[data-live-empty]")?.remove();
    sayDeliveryState(row);
  });
}

// A button with data-cooldown="<seconds>" waits that long before it can be pressed again (the server keeps the same
// limit), saying how long is left.
for (const button of document.querySelectorAll("button[data-cooldown]")) {
  let left = Number(button.dataset.cooldown) || 0;
  if (left <= 0) continue;
  const label = button.textContent;
  const tick = () => {
    if (left <= 0) {
      button.disabled = false;
      button.textContent = label;
      return;
    }
    button.disabled = true;
    button.textContent = `${label} (in ${left} s)`;
    left -= 1;
    setTimeout(tick, 1000);
  };
  tick();
}
