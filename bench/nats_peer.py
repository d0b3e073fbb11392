#!/usr/bin/env python3
"""The benchmark peer for `make bench-nats`: a plain nats-py publish loop,
COUNT messages of SIZE bytes to one subject, then a flush. Prints one JSON
line with the count, the seconds from the first publish to the completed
flush, and the publish rate."""

import argparse
import asyncio
import json
import time

import nats


async def publish(url: str, count: int, size: int, subject: str) -> dict:
    client = await nats.connect(url, name="loadrun bench peer (nats-py)")
    payload = bytes(size)
    started = time.perf_counter()
    for _ in range(count):
        await client.publish(subject, payload)
    await client.flush(timeout=120)
    seconds = time.perf_counter() - started
    await client.close()
    return {"client": "nats-py", "messages": count, "size": size,
            "seconds": round(seconds, 3), "rate": round(count / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="nats://127.0.0.1:4222")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--subject", default="loadrun-bench-python")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(publish(args.url, args.count, args.size, args.subject))))


if __name__ == "__main__":
    main()
