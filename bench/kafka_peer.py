#!/usr/bin/env python3
"""The baseline for `make bench-kafka`: a plain confluent-kafka producer and
consumer moving the same messages as loadrun's benchmark stage (count, size,
keys, partitions, linger) through the same broker. Prints one line with the
throughput, measured like loadrun's receive_rate: messages over the time
from the first send to the last arrival."""

import argparse
import sys
import threading
import time
import uuid

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def parse():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--messages", type=int, default=100_000)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--partitions", type=int, default=3)
    p.add_argument("--keys", type=int, default=1000)
    p.add_argument("--linger-ms", type=int, default=5)
    p.add_argument("--fetch-wait-ms", type=int, default=10)
    p.add_argument("--timeout", type=float, default=300.0)
    return p.parse_args()


def create_topic(admin, name, partitions):
    for future in admin.create_topics([NewTopic(name, partitions, -1)]).values():
        future.result()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        topic = admin.list_topics(name, timeout=10).topics.get(name)
        if topic and not topic.error and len(topic.partitions) == partitions:
            return
        time.sleep(0.02)
    raise SystemExit(f"kafka_peer: topic {name} has no leaders after 30s")


def consume(consumer, expected, timeout, out):
    received, last = 0, None
    deadline = time.monotonic() + timeout
    while received < expected and time.monotonic() < deadline:
        for message in consumer.consume(num_messages=1000, timeout=0.1):
            if message.error() is None:
                received += 1
                last = time.perf_counter()
    out["received"], out["last"] = received, last


def main():
    args = parse()
    topic = f"kafka-peer-{uuid.uuid4().hex[:12]}"
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    create_topic(admin, topic, args.partitions)

    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": topic,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "fetch.wait.max.ms": args.fetch_wait_ms,
    })
    consumer.assign([TopicPartition(topic, p, 0) for p in range(args.partitions)])
    consumer.list_topics(topic, timeout=10)
    result = {}
    reader = threading.Thread(target=consume, args=(consumer, args.messages, args.timeout, result))
    reader.start()

    failed = []
    producer = Producer({"bootstrap.servers": args.bootstrap, "linger.ms": args.linger_ms})
    payload = bytes(args.size)
    keys = [b"k%d" % k for k in range(args.keys)]

    def delivered(error, _message):
        if error is not None:
            failed.append(error)

    started = time.perf_counter()
    for i in range(args.messages):
        while True:
            try:
                producer.produce(topic, payload, keys[i % args.keys], on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.001)
        if i % 1000 == 0:
            producer.poll(0)
    producer.flush(args.timeout)
    sent = time.perf_counter()
    reader.join()
    consumer.close()
    try:
        for future in admin.delete_topics([topic]).values():
            future.result()
    except KafkaException as e:
        print(f"kafka_peer: could not delete {topic}: {e}", file=sys.stderr)

    received, last = result["received"], result["last"] or sent
    if received < args.messages or failed:
        raise SystemExit(f"kafka_peer: {received} of {args.messages} arrived, {len(failed)} failed")
    elapsed = last - started
    print(f"python: {received} messages in {elapsed:.3f}s, "
          f"send {args.messages / (sent - started):.0f}/s, receive {received / elapsed:.0f}/s")
    print(f"rate {received / elapsed:.1f}")


if __name__ == "__main__":
    main()
