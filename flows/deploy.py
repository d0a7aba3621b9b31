"""Serve the nightly flow on its schedule: 02:00 Asia/Shanghai by default.

    python -m flows.deploy --input-root /data/calls [--cron "0 2 * * *"] [--timezone Asia/Shanghai]
        [--db URL] [--rules rules/]

This long-running process registers the deployment `nightly-qa/nightly-served` with the
Prefect server it points at (PREFECT_API_URL) and runs each scheduled flow run itself, no work
pool needed. `prefect.yaml` describes the other way, `nightly-qa/nightly` run by a worker of a
work pool; the names differ so neither overwrites the other. Use one of the two: both scheduled
would judge each night twice.
"""

from __future__ import annotations

import argparse
from typing import cast

from prefect import serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from flows.nightly_qa import nightly_qa

SERVED = "nightly-served"  # prefect.yaml's worker deployment is "nightly"


def build(
    input_root: str,
    cron: str = "0 2 * * *",
    timezone: str = "Asia/Shanghai",
    db_url: str | None = None,
    rules_dir: str | None = None,
    name: str = SERVED,
) -> RunnerDeployment:
    parameters = {"input_root": input_root, "db_url": db_url, "rules_dir": rules_dir}
    deployment = nightly_qa.to_deployment(
        name=name,
        schedules=[Cron(cron, timezone=timezone)],
        parameters={k: v for k, v in parameters.items() if v is not None},
    )
    return cast(RunnerDeployment, deployment)  # the sync form (no running event loop here)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-root", required=True)
    parser.add_argument("--cron", default="0 2 * * *")
    parser.add_argument("--timezone", default="Asia/Shanghai")
    parser.add_argument("--db")
    parser.add_argument("--rules")
    parser.add_argument("--name", default=SERVED)
    args = parser.parse_args()
    serve(build(args.input_root, args.cron, args.timezone, args.db, args.rules, args.name))


if __name__ == "__main__":
    main()
