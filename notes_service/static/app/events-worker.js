// One `/events` stream for every tab of this browser (SharedWorker): each tab is a port; every
// change goes to all of them. The stream reconnects by itself with Last-Event-ID; when the server
// refuses it (signed out: 401) it is tried again every 10 s, so a sign-in brings it back.
const ports = new Set();
let source = null;

function open() {
  source = new EventSource("/events");
  for (const kind of ["note", "deleted"]) {
    source.addEventListener(kind, (event) => {
      for (const port of ports) port.postMessage({ kind, data: event.data });
    });
  }
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) { source = null; setTimeout(open, 10_000); }
  };
}

onconnect = (event) => {
  const port = event.ports[0];
  ports.add(port);
  port.onmessage = (message) => { if (message.data === "bye") ports.delete(port); };
  port.start();
  if (!source) open();
};
