# NATS: a local nats-server for manual runs and scenarios/compare.toml, and
# the publish benchmark against a plain nats-py loop.

NATS_PORT ?= 4222
NATS_DIR ?= $(or $(TMPDIR),/tmp)/loadrun-nats-$(NATS_PORT)

.PHONY: nats-up nats-down bench-nats

# one nats-server on 127.0.0.1:$(NATS_PORT) with JetStream
nats-up:
	scripts/install-nats.sh
	scripts/nats-server.sh up $(NATS_PORT) $(NATS_DIR)

nats-down:
	scripts/nats-server.sh down $(NATS_PORT) $(NATS_DIR)

# loadrun (release) against nats-py, same server, count and size; set
# BENCH_MESSAGES, BENCH_SIZE, BENCH_PRODUCERS or BENCH_NATS_PORT to change
bench-nats: build
	scripts/bench-nats.sh
