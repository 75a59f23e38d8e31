# The booking platform. `make dev` runs everything on this machine; `make test` runs every test.
SHELL := /bin/bash
BIN := $(CURDIR)/bin
GO ?= go

# Pinned tools, installed from the Go module proxy into ./bin when missing.
TEMPORAL_CLI := github.com/temporalio/cli/cmd/temporal@v1.5.1
MAILPIT := github.com/axllent/mailpit@v1.27.11
SQLC := github.com/sqlc-dev/sqlc/cmd/sqlc@v1.31.1

.PHONY: dev test bench build tools vet fmt clean histories web web-gen web-e2e web-screenshots sqlc sqlc-check

dev: tools build
	@./scripts/dev.sh

# The API binary embeds the web app (web/dist), so it is built first.
build: web
	$(GO) build -o $(BIN)/booking ./cmd/booking
	$(GO) build -o $(BIN)/twilio-sandbox ./cmd/twilio-sandbox

tools: $(BIN)/temporal $(BIN)/mailpit

$(BIN)/temporal:
	@echo "building the Temporal CLI (dev server and Web UI) into ./bin; the first time takes about 5 minutes"
	GOBIN=$(BIN) $(GO) install $(TEMPORAL_CLI)

$(BIN)/mailpit:
	@echo "building Mailpit into ./bin"
	GOBIN=$(BIN) $(GO) install $(MAILPIT)

# sqlc turns the store's queries (store/queries) into typed Go (store/internal/db), with the
# migrations as its schema (sqlc.yaml). Built apart from go.mod, whose dependencies it would
# otherwise change; a binary of another version than the pinned one is rebuilt.
$(BIN)/sqlc: Makefile
	@if [ ! -x $@ ] || [ "$$($@ version)" != "$(lastword $(subst @, ,$(SQLC)))" ]; then \
		echo "building sqlc into ./bin; the first time takes a few minutes"; \
		GOBIN=$(BIN) $(GO) install $(SQLC); \
	fi
	@touch $@

# Regenerate store/internal/db after a change to store/queries or store/migrations (files of
# queries since removed go too).
sqlc: $(BIN)/sqlc
	rm -f store/internal/db/*.go
	$(BIN)/sqlc generate

# Fails when store/internal/db is not exactly what store/queries and the migrations generate:
# generates a copy elsewhere and compares, so that an edited, missing or extra file all count.
sqlc-check: $(BIN)/sqlc
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && mkdir "$$tmp/store" && \
	cp sqlc.yaml "$$tmp" && cp -R store/queries store/migrations "$$tmp/store" && \
	(cd "$$tmp" && $(BIN)/sqlc generate) && \
	diff -ru "$$tmp/store/internal/db" store/internal/db || { echo "store/internal/db is not what sqlc generates: run make sqlc"; exit 1; }

# The web app (web/, scripts/web.sh): npm ci and a build into web/dist when missing or stale.
web:
	./scripts/web.sh build

# Regenerate the web app's API types (web/src/api/schema.d.ts) from api/openapi.yaml.
web-gen:
	./scripts/web.sh gen

# The browser tests (web/tests, Playwright driving the machine's Chromium) against a stack of
# its own started by scripts/dev.sh on other ports, a fresh database and data directory.
web-e2e: tools build
	./scripts/web-e2e.sh

# The browser tests, saving their screenshots over the committed ones the README shows.
web-screenshots: tools build
	WEB_SCREENSHOTS=update ./scripts/web-e2e.sh

# Every test, against the real PostgreSQL (TEST_DATABASE_URL, default the local server) and the
# real Temporal dev server from ./bin, with the race detector. Before them the store's generated
# queries are checked against sqlc, the web app is built, its generated API client checked and
# type-checked; beside them the browser tests run against a real stack, then a short fuzzing run
# of the request decoding (scripts/test.sh).
test: tools build sqlc-check
	./scripts/web.sh check
	$(GO) vet ./...
	GO=$(GO) ./scripts/test.sh

# Record a fresh set of workflow histories from real runs on the dev server, one per path a
# booking can take, into workflows/testdata/histories (dated; older ones stay). `make test`
# replays every recorded history against the current workflow code.
histories: tools
	$(GO) test ./e2e -run '^TestHistoriesReplay$$' -count=1 -args -record-histories

bench: tools
	./scripts/bench.sh

# Faults under load, then an audit of the invariants (README, Reliability): a stack of its own
# on free ports and a temporary directory, under 15 minutes. CHAOS_FLAGS=-short is the version
# `make test` runs; -seed N repeats a run's choices; CHAOS_FLAGS='-temporal server' runs it on the
# full Temporal server on the stack's PostgreSQL (scripts/temporal-server.sh) instead of the dev server.
.PHONY: chaos
chaos: tools build
	$(GO) run ./cmd/chaos $(CHAOS_FLAGS)

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN)
