"""`_embed` on the posts pages against batched `include=` requests, on a real WordPress, with curl 4 at a time.

    .venv/bin/python bench/embed_vs_include.py API_ROOT [--rounds 3]

A: the posts pages with `_embed` (author, featured media and terms embedded in each post): ceil(posts/100) requests.
B: the posts pages without `_embed`, then the linked resources by `include=` batches of 100 distinct ids (media,
   categories, tags, users), with the crawler's `_fields`: what viewworld does.
Rounds alternate A and B; prints the median wall time, requests, bytes and the server's time per request.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BATCH_FIELDS, CONCURRENCY, PER_PAGE, endpoint  # noqa: E402


def get_json(url: str) -> tuple[object, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=120) as response:
        return json.loads(response.read()), dict(response.headers)


def linked_ids(api_root: str) -> tuple[int, dict[str, set[int]]]:
    fields = "id,featured_media,categories,tags,author"
    _, headers = get_json(endpoint(api_root, "/wp/v2/posts", f"per_page={PER_PAGE}&_fields={fields}"))
    pages = int(headers["X-WP-TotalPages"])
    ids: dict[str, set[int]] = {"media": set(), "categories": set(), "tags": set(), "users": set()}
    for page in range(1, pages + 1):
        posts, _ = get_json(endpoint(api_root, "/wp/v2/posts", f"per_page={PER_PAGE}&page={page}&_fields={fields}"))
        for post in posts:  # type: ignore[union-attr]
            if post["featured_media"]:
                ids["media"].add(post["featured_media"])
            ids["categories"].update(post["categories"])
            ids["tags"].update(post["tags"])
            ids["users"].add(post["author"])
    return pages, ids


def fetch(urls: list[str], workdir: Path) -> tuple[float, int, list[float]]:
    """Wall time, bytes, and each request's time_total, for the URLs fetched 4 at a time."""
    config = workdir / "urls.cfg"
    config.write_text("".join(f'url = "{url}"\noutput = "/dev/null"\n' for url in urls), encoding="utf-8")
    started = time.monotonic()
    result = subprocess.run(["curl", "--silent", "--parallel", "--parallel-max", str(CONCURRENCY), "--config",
                             str(config), "--write-out", "%{size_download} %{time_total}\\n"],
                            capture_output=True, text=True, check=True)
    wall = time.monotonic() - started
    rows = [line.split() for line in result.stdout.splitlines() if line.strip()]
    return wall, sum(int(size) for size, _ in rows), [float(seconds) for _, seconds in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("api_root")
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args(argv)
    api_root = arguments.api_root
    pages, ids = linked_ids(api_root)
    page_urls = [endpoint(api_root, "/wp/v2/posts", f"per_page={PER_PAGE}&page={page}&orderby=id&order=desc")
                 for page in range(1, pages + 1)]
    embed_urls = [url + "&_embed" for url in page_urls]
    batch_urls = []
    for route, wanted in ids.items():
        ordered = sorted(wanted)
        for start in range(0, len(ordered), PER_PAGE):
            include = ",".join(map(str, ordered[start:start + PER_PAGE]))
            batch_urls.append(endpoint(api_root, f"/wp/v2/{route}",
                                       f"include={include}&per_page={PER_PAGE}&_fields={BATCH_FIELDS[route]}"))
    include_urls = page_urls + batch_urls
    results: dict[str, list[tuple[float, int, list[float]]]] = {"embed": [], "include": []}
    with tempfile.TemporaryDirectory() as directory:
        for round_number in range(arguments.rounds):
            order = ["embed", "include"] if round_number % 2 == 0 else ["include", "embed"]
            for name in order:
                results[name].append(fetch(embed_urls if name == "embed" else include_urls, Path(directory)))
    print(f"{pages} posts pages; distinct linked: " + ", ".join(f"{len(v)} {k}" for k, v in ids.items()))
    print(f"{'':28} {'requests':>8} {'wall s (median)':>16} {'MB':>7} {'server s/page':>14} {'sum server s':>13}")
    for name, label, urls in (("embed", "A: posts pages + _embed", embed_urls),
                              ("include", "B: posts pages + include=", include_urls)):
        wall = statistics.median(run[0] for run in results[name])
        size = results[name][0][1] / 1e6
        per_page = statistics.median(statistics.mean(run[2][:pages]) for run in results[name])
        total = statistics.median(sum(run[2]) for run in results[name])
        print(f"{label:28} {len(urls):>8} {wall:>16.2f} {size:>7.1f} {per_page:>14.3f} {total:>13.1f}")
    batches = results["include"][0][2][pages:]
    if batches:
        print(f"B's {len(batches)} include= batches: {statistics.mean(batches):.3f} s each on average")
    print(f"median of {arguments.rounds} alternating rounds, {CONCURRENCY} at a time; expected pages: "
          f"{math.ceil(sum(1 for _ in page_urls))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
