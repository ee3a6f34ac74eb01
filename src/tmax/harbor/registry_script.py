"""Run by Harbor's interpreter (``tmax.harbor.registry.pull`` starts it as a script; it imports
only ``harbor``): download one dataset through Harbor's registry client and print, as the last
line of stdout, JSON ``{"tasks": [{"name", "path"}]}`` or ``{"error", "kind"}``.

``kind`` is ``unreachable`` when the download failed and the registry's host cannot be reached
(Harbor itself then reports "Dataset not found"), ``not_found`` when the registry answered
without the dataset, ``failed`` otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse


def _hosts(args) -> list[str]:
    if args.registry_path:
        return []  # a local registry.json; its git tasks may still name remote hosts
    if args.repo:
        return [urlparse(args.repo).hostname or "github.com"]  # org/name: GitHub
    if args.registry_url:
        return [urlparse(args.registry_url).hostname or args.registry_url]
    from harbor.auth.constants import SUPABASE_URL

    return [urlparse(SUPABASE_URL).hostname]


def _unreachable(hosts: list[str]) -> list[str]:
    """``host: reason`` for each host that a TCP connection on 443 does not reach in 5 s."""
    bad = []
    for host in hosts:
        try:
            socket.create_connection((host, 443), timeout=5).close()
        except OSError as exc:
            bad.append(f"{host}: {exc.strerror or exc}")
    return bad


async def _download(args) -> list[dict]:
    from harbor.registry.client.factory import RegistryClientFactory

    if "/" in args.name and not args.repo:
        from harbor.registry.client.package import PackageDatasetClient

        client, ref = PackageDatasetClient(), f"{args.name}@{args.version or 'latest'}"
    else:
        client = RegistryClientFactory.create(registry_url=args.registry_url,
                                              registry_path=Path(args.registry_path) if args.registry_path else None,
                                              repo=args.repo)
        ref = f"{args.name}@{args.version}" if args.version else args.name
    out = Path(args.out) / args.name.split("/")[-1]
    items = await client.download_dataset(ref, overwrite=args.overwrite, output_dir=out, export=True)
    return [{"name": item.id.get_name(), "path": str(Path(item.downloaded_path).resolve())} for item in items]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("--version")
    parser.add_argument("--out", required=True)
    parser.add_argument("--registry-path")
    parser.add_argument("--registry-url")
    parser.add_argument("--repo")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()
    try:
        answer = {"tasks": asyncio.run(_download(args))}
    except Exception as exc:  # reported to tmax's CLI as data, with the reachability verdict
        bad = _unreachable(_hosts(args))
        kind = "unreachable" if bad else ("not_found" if isinstance(exc, (KeyError, ValueError)) else "failed")
        message = f"{type(exc).__name__}: {exc}"
        if bad:
            message = "no registry is reachable (" + "; ".join(bad) + f"); Harbor said: {message}"
        answer = {"error": message, "kind": kind}
    sys.stdout.write("\n" + json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
