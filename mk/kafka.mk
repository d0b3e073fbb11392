# Kafka: a local tansu broker for trying loadrun against a real
# Kafka-protocol server, and the benchmark against a plain librdkafka
# client (confluent-kafka) on the same broker.

.PHONY: kafka-up kafka-down bench-kafka

kafka-up:
	@scripts/install-tansu.sh
	@echo "kafka bootstrap: $$(scripts/tansu.sh up)"

kafka-down:
	@scripts/tansu.sh down

bench-kafka:
	$(CARGO) build --release
	scripts/install-tansu.sh
	scripts/install-python-peers.sh
	scripts/bench-kafka.sh
