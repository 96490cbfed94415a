"""The open-files limit: every open connection is a file descriptor, and a worker holding thousands
of live streams (SPEC §10) needs more than the 1,024 most systems give a process by default.

`serve` raises its soft limit to the hard one before it forks the workers (they inherit it), and
says so in the log; above the hard limit only the system can go (systemd `LimitNOFILE=`, docs/
streams.md).
"""

from __future__ import annotations

import logging
import resource

log = logging.getLogger("notes_service.serving.server")


def raise_open_files_limit() -> int:
    """Raise this process's soft open-files limit to its hard limit; the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft == target:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as error:  # a system that refuses: serve with what there is
        log.warning(
            "event=open_files_limit soft=%s hard=%s raised=no error=%s", soft, hard, type(error).__name__
        )
        return soft
    log.info("event=open_files_limit from=%s to=%s", soft, target)
    return target
