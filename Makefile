# The booking platform. `make dev` runs everything on this machine; `make test` runs every test.
SHELL := /bin/bash
BIN := $(CURDIR)/bin
GO ?= go

# Pinned tools, installed from the Go module proxy into ./bin when missing.
TEMPORAL_CLI := github.com/temporalio/cli/cmd/temporal@v1.5.1
MAILPIT := github.com/axllent/mailpit@v1.27.11

.PHONY: dev test bench build tools vet fmt clean histories

dev: tools build
	@./scripts/dev.sh

build:
	$(GO) build -o $(BIN)/booking ./cmd/booking
	$(GO) build -o $(BIN)/twilio-sandbox ./cmd/twilio-sandbox

tools: $(BIN)/temporal $(BIN)/mailpit

$(BIN)/temporal:
	@echo "building the Temporal CLI (dev server and Web UI) into ./bin; the first time takes about 5 minutes"
	GOBIN=$(BIN) $(GO) install $(TEMPORAL_CLI)

$(BIN)/mailpit:
	@echo "building Mailpit into ./bin"
	GOBIN=$(BIN) $(GO) install $(MAILPIT)

# Every test, against the real PostgreSQL (TEST_DATABASE_URL, default the local server) and the
# real Temporal dev server from ./bin, with the race detector; then a short fuzzing run of the
# request decoding.
test: tools
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...
	$(GO) test -run '^$$' -fuzz FuzzCreateBookingBody -fuzztime 15s ./api
	$(GO) test -run '^$$' -fuzz FuzzRegisterBody -fuzztime 15s ./api

# Record a fresh set of workflow histories from real runs on the dev server, one per path a
# booking can take, into workflows/testdata/histories (dated; older ones stay). `make test`
# replays every recorded history against the current workflow code.
histories: tools
	$(GO) test ./e2e -run '^TestHistoriesReplay$$' -count=1 -args -record-histories

bench: tools
	./scripts/bench.sh

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN)
