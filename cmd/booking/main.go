// Command booking runs the booking platform: `booking api` serves the REST API (and hosts a
// worker so new bookings start eagerly), `booking worker` runs workflows and activities,
// `booking migrate` applies the schema, `booking seed` adds the demo clinic, `booking keygen`
// prints a fresh JWT signing key (`booking keygen codec`: a payload codec key).
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // provider time zones must resolve even in a scratch image

	"github.com/clinicbook/booking/codec"
	"github.com/clinicbook/booking/config"
)

const usage = `usage: booking <command>

commands:
  api      serve the REST API on HTTP_ADDR (also runs a worker)
  worker   run booking workflows and activities
  migrate  apply database migrations and exit
  seed     add the demo clinic unless the database has providers already;
           seed --bookings N generates N bookings over two years instead
           (a doctor per 8,000 bookings, at least 50)
  keygen   print a new JWT_SIGNING_KEY value (keygen codec: a TEMPORAL_CODEC_KEYS key)
`

// command is a subcommand: the configuration it reads, and what it runs with it.
type command struct {
	load func(lookup func(string) (string, bool)) (config.Config, error)
	run  func(context.Context, config.Config) error
}

// commands: the API and the worker read everything; migrate and seed only touch PostgreSQL,
// so they read the database's settings alone and a migration job needs no other secret.
var commands = map[string]command{
	"api":     {config.LoadLookup, runAPI},
	"worker":  {config.LoadLookup, runWorker},
	"migrate": {config.LoadDatabase, runMigrate},
	"seed":    {config.LoadDatabase, runSeed},
}

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd := os.Args[1]
	if cmd == "keygen" {
		keygen(os.Args[2:])
		return
	}
	c, ok := commands[cmd]
	if !ok {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cfg, err := c.load(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "booking:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := c.run(ctx, cfg); err != nil {
		slog.Error("booking "+cmd+" failed", "err", err)
		os.Exit(1)
	}
}

// keygen prints a JWT signing key; `keygen codec` prints a payload codec key instead, one
// value a line either way so that scripts can capture it.
func keygen(args []string) {
	if len(args) == 1 && args[0] == "codec" {
		key, err := codec.GenerateKey()
		if err != nil {
			fmt.Fprintln(os.Stderr, "keygen:", err)
			os.Exit(1)
		}
		fmt.Println(key)
		return
	}
	if len(args) > 0 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		fmt.Fprintln(os.Stderr, "keygen:", err)
		os.Exit(1)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	fmt.Printf("key-%x:%s\n", b, base64.StdEncoding.EncodeToString(key.Seed()))
}
