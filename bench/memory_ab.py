"""Memory of `serve --workers 1, 2, 4` for several checkouts, with bench/memory.py's probe, interleaved.

    git archive b31d88b | tar -x -C /tmp/before      # each variant: a checkout of the package
    .venv/bin/python -m bench.memory_ab before=/tmp/before after=$PWD

Each variant serves the same seeded SQLite database (the benchmark's reader: 20 notes) with
PYTHONPATH=its directory; ROUNDS (2) rounds. Prints the summed PSS and each worker's private memory.
"""

import asyncio
import os
import secrets
import sys
import tempfile
from pathlib import Path

from bench import clients, memory, seed, servers

ROUNDS = int(os.environ.get("ROUNDS", 2))
VARIANTS = dict(argument.split("=", 1) for argument in sys.argv[1:])


async def main() -> None:
    dataset = seed.make_dataset()
    scratch = Path(tempfile.mkdtemp(prefix="memory-ab-"))
    env = servers.service_env(f"sqlite+aiosqlite:///{scratch}/notes.db", secrets.token_urlsafe(48), 4)
    servers.migrate(scratch, env)
    seed.service_sqlite(
        scratch / "notes.db", dataset, seed.bcrypt_sha256(4).hash(dataset.password), deep=False
    )
    header = clients.bearer(dataset.reader.token)
    for round_number in range(1, ROUNDS + 1):
        for label, checkout in VARIANTS.items():
            records = await memory.by_workers(scratch / label, dict(env, PYTHONPATH=checkout), header, 3)
            for record in records:
                print(
                    f"round {round_number} {label:10s} workers {record['workers']}: "
                    f"PSS summed {record['tree_pss_mib']} MiB, private {record['workers_private_mib']}",
                    flush=True,
                )


asyncio.run(main())
