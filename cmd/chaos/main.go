// Command chaos is `make chaos`: a platform of its own on free ports and a temporary data
// directory, a steady mixed load over HTTP, faults injected one after another (worker and API
// killed, Temporal and PostgreSQL restarted, Twilio and SMTP failing for a while, every worker
// down while timers fall due), and an audit of the platform's invariants. It prints a line per
// fault and per invariant and ends with "N passed, N failed"; the exit status is 1 on any
// failure.
//
//	go run ./cmd/chaos            # the full run, under 15 minutes
//	go run ./cmd/chaos -short     # the version `make test` runs, under 4 minutes
//	go run ./cmd/chaos -temporal server   # on the full Temporal server (PostgreSQL), not the dev server
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/clinicbook/booking/chaos"
)

func main() {
	short := flag.Bool("short", false, "the short profile: one fault of each kind, a small load (what make test runs)")
	duration := flag.Duration("duration", 0, "how long the load runs at least (default: the profile's, 8m full; faults extend it)")
	seed := flag.Uint64("seed", 0, "seed of the load's choices (default: from the clock; printed)")
	keep := flag.Bool("keep", false, "keep the data directory (databases, logs) after the run")
	temporal := flag.String("temporal", chaos.TemporalDev, "the Temporal engine: dev (the dev server, state in a file) or server (the full server on the stack's PostgreSQL, built by scripts/temporal-server.sh)")
	flag.Parse()
	if *temporal != chaos.TemporalDev && *temporal != chaos.TemporalServer {
		fmt.Fprintf(os.Stderr, "chaos: -temporal %q: want %s or %s\n", *temporal, chaos.TemporalDev, chaos.TemporalServer)
		os.Exit(2)
	}

	p := chaos.FullProfile
	if *short {
		p = chaos.ShortProfile
	}
	if *duration > 0 {
		p.Duration = *duration
	}
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	// Ctrl-C or SIGTERM ends the run; the stack is stopped and its directory removed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := chaos.Run(ctx, chaos.Options{Profile: p, Seed: *seed, Keep: *keep, Temporal: *temporal, Out: os.Stdout, Log: os.Stderr})
	if rep != nil && rep.Tails != "" {
		fmt.Fprintf(os.Stderr, "\nlast lines of each process's log (%s/logs):\n%s", rep.Dir, rep.Tails)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
	if rep.Failed > 0 {
		os.Exit(1)
	}
}
