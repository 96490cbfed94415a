// Changes of the person's notes, live, from one `/events` stream shared by all tabs (SPEC §11), so
// a 7th tab never waits on the browser's six connections per host. A SharedWorker holds the stream
// where there is one; else the tabs elect a leader with the Web Locks API, which holds the stream
// and passes each change on through a BroadcastChannel; without either, each tab has its own.
const WORKER = new URL("./events-worker.js", import.meta.url);

export function subscribe(onChange) {
  const deliver = ({ kind, data }) => onChange(kind, JSON.parse(data));
  if (typeof SharedWorker === "function") {
    const worker = new SharedWorker(WORKER, { name: "notes-events" });
    worker.port.onmessage = (event) => deliver(event.data);
    worker.port.start();
    addEventListener("pagehide", () => worker.port.postMessage("bye"));
    return;
  }
  const own = (send) => {
    const source = new EventSource("/events");
    for (const kind of ["note", "deleted"]) {
      source.addEventListener(kind, (event) => send({ kind, data: event.data }));
    }
  };
  if (typeof BroadcastChannel !== "function" || !navigator.locks) {
    own(deliver);
    return;
  }
  const channel = new BroadcastChannel("notes-events");
  channel.onmessage = (event) => deliver(event.data);
  // The lock is held until this tab closes; the next tab in line then opens the stream.
  navigator.locks.request("notes-events-leader", () => new Promise(() => {
    own((message) => { deliver(message); channel.postMessage(message); });
  }));
}
