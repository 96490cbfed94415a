"""The workers' listening sockets: one per worker, bound to the same address with SO_REUSEPORT.

With one socket shared by every worker, each new connection wakes all of them and the first to run
takes it, so a burst can land mostly on one worker; with keep-alive its connections then stay there
for good. With a socket of its own per worker the kernel spreads new connections evenly over the
workers' accept queues (by a hash of the client's address and port).

The supervisor holds every socket for as long as it runs and hands socket N to whichever process is
worker N: a worker that dies leaves its socket listening, and the connections queued there wait for
its replacement instead of being reset. Where SO_REUSEPORT cannot be used (a platform without it, a
`unix:` or `fd://` bind) every worker shares the one set of sockets, as before.
"""

from __future__ import annotations

import logging
import socket

from hypercorn.config import Config, Sockets

from ..http.logs import clean

log = logging.getLogger("notes_service.serving.server")


def worker_sockets(config: Config) -> list[Sockets]:
    """One set of listening sockets for each of `config.workers` workers (the same set, if shared)."""
    first = config.create_sockets()  # hypercorn sets SO_REUSEPORT on these when there are workers
    twins: list[Sockets] = []
    try:
        for _ in range(config.workers - 1):
            twins.append(_twin_set(first))
    except (AttributeError, OSError) as error:  # AttributeError: no socket.SO_REUSEPORT here
        for made in twins:
            close_all([made])
        log.warning("event=listen_shared reason=%s", clean(error))
        return [first] * config.workers
    return [first, *twins]


def close_all(sets: list[Sockets]) -> None:
    """Close every socket of these sets once (a shared set appears once per worker)."""
    seen: set[int] = set()
    for sockets in sets:
        for sock in [*sockets.secure_sockets, *sockets.insecure_sockets, *sockets.quic_sockets]:
            if id(sock) not in seen:
                seen.add(id(sock))
                sock.close()


def _twin_set(sockets: Sockets) -> Sockets:
    made: list[socket.socket] = []
    try:
        return Sockets(
            [_twin(sock, made) for sock in sockets.secure_sockets],
            [_twin(sock, made) for sock in sockets.insecure_sockets],
            [_twin(sock, made) for sock in sockets.quic_sockets],
        )
    except BaseException:
        for sock in made:
            sock.close()
        raise


def _twin(sock: socket.socket, made: list[socket.socket]) -> socket.socket:
    """A socket bound where `sock` is (its actual port, also when the bind said port 0)."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        raise OSError(f"SO_REUSEPORT does not apply to a {sock.family.name} socket")
    twin = socket.socket(sock.family, sock.type)
    made.append(twin)
    twin.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    twin.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if sock.type == socket.SOCK_STREAM:
        twin.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    twin.bind(sock.getsockname())
    twin.setblocking(False)
    twin.set_inheritable(True)
    return twin
