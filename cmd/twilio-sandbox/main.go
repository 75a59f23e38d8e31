// Command twilio-sandbox serves a local Twilio-compatible SMS API for development: point the
// platform's TWILIO_API_BASE_URL at it and browse the sent messages at its root.
//
// Settings come from the environment, overridden by flags: SANDBOX_ADDR, TWILIO_ACCOUNT_SID,
// TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER and SANDBOX_INBOUND_URL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/clinicbook/booking/twiliosandbox"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, logger)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		logger.Error("twilio sandbox", "error", err)
		os.Exit(1)
	}
}

// run serves until ctx ends (SIGINT or SIGTERM in main), then shuts down gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, logger *slog.Logger) error {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("twilio-sandbox", flag.ContinueOnError)
	addr := fs.String("addr", env("SANDBOX_ADDR", "127.0.0.1:8090"), "listen address (SANDBOX_ADDR)")
	sid := fs.String("account-sid", env("TWILIO_ACCOUNT_SID", ""), "account SID clients must use (TWILIO_ACCOUNT_SID)")
	token := fs.String("auth-token", env("TWILIO_AUTH_TOKEN", ""), "auth token clients must use; signs webhooks (TWILIO_AUTH_TOKEN)")
	from := fs.String("from", env("TWILIO_FROM_NUMBER", ""), "the account's phone number (TWILIO_FROM_NUMBER)")
	inbound := fs.String("inbound-url", env("SANDBOX_INBOUND_URL", "http://127.0.0.1:8080/v1/webhooks/twilio/inbound"),
		"where inbound SMS webhooks go (SANDBOX_INBOUND_URL)")
	hold := fs.Duration("timeout-hold", twiliosandbox.DefaultTimeoutHold, "how long a timeout fault holds a request")
	delay := fs.Duration("status-delay", twiliosandbox.DefaultStatusDelay, "pause before each status change")
	verbose := fs.Bool("v", false, "log every request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Without the same credentials as the platform every send would fail with 401, so refuse
	// to start rather than serve something useless.
	if *sid == "" || *token == "" {
		return errors.New("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or -account-sid and -auth-token) are required")
	}
	if *verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	sandbox := twiliosandbox.New(twiliosandbox.Config{
		AccountSID:  *sid,
		AuthToken:   *token,
		FromNumber:  *from,
		InboundURL:  *inbound,
		TimeoutHold: *hold,
		StatusDelay: *delay,
		Logger:      logger,
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{
		Handler:           sandbox,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("twilio sandbox listening", "url", "http://"+ln.Addr().String(), "account_sid", *sid,
		"from", *from, "inbound_url", *inbound)

	select {
	case err := <-errc:
		sandbox.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("twilio sandbox shutting down")
	// Close first: it releases requests held by timeout faults, which Shutdown would wait for.
	sandbox.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
