package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/clinicbook/booking/api"
	"github.com/clinicbook/booking/app"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/seed"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/telemetry"
	"github.com/clinicbook/booking/worker"
)

func runMigrate(ctx context.Context, cfg config.Config) error {
	pool, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	pool.Close()
	slog.Info("migrations applied")
	return nil
}

func runSeed(ctx context.Context, cfg config.Config) error {
	bookings, err := seedArgs(os.Args[2:])
	if err != nil {
		return err
	}
	pool, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	if bookings > 0 {
		_, err := seed.Scale(ctx, st, seed.ScaleSpec(bookings, time.Now()), os.Stdout)
		return err
	}
	accounts, err := app.NewAccounts(ctx, st, cfg)
	if err != nil {
		return err
	}
	created, err := seed.Demo(ctx, st, accounts, time.Now())
	if err != nil {
		return err
	}
	if created {
		slog.Info("demo clinic seeded")
	} else {
		slog.Info("database has providers already; nothing seeded")
	}
	return nil
}

func runWorker(ctx context.Context, cfg config.Config) error {
	pool, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pc, err := app.NewCodec(cfg.Codec)
	if err != nil {
		return err
	}
	opts, shutdown, err := app.TemporalOptions(ctx, cfg, "booking-worker", worker.MetricsHandler(reg), pc)
	if err != nil {
		return err
	}
	defer shutdown()
	c, err := app.DialTemporal(ctx, cfg.Temporal, opts)
	if err != nil {
		return err
	}
	defer c.Close()
	w, err := app.NewWorker(c, store.New(pool), cfg, reg)
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop() // waits for activities in flight, up to the worker's stop timeout
	go app.EnsureReconcileSchedule(ctx, c, cfg, opts.DataConverter)

	ops := &http.Server{Addr: cfg.WorkerHTTPAddr, Handler: worker.OpsHandler(pool, c, reg), ReadHeaderTimeout: 5 * time.Second}
	return serve(ctx, ops, "worker")
}

func runAPI(ctx context.Context, cfg config.Config) error {
	pool, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	// One registry for the API's requests, the SDK's client and worker metrics, and the
	// reconciler's counts.
	metrics := api.NewRegistry(st.CountByStatus)
	pc, err := app.NewCodec(cfg.Codec)
	if err != nil {
		return err
	}
	opts, shutdown, err := app.TemporalOptions(ctx, cfg, "booking-api", worker.MetricsHandler(metrics.Prometheus()), pc)
	if err != nil {
		return err
	}
	defer shutdown()
	c, err := app.DialTemporal(ctx, cfg.Temporal, opts)
	if err != nil {
		return err
	}
	defer c.Close()

	accounts, err := app.NewAccounts(ctx, st, cfg)
	if err != nil {
		return err
	}
	// Throttle rows outlive their use; left alone, a spray of random emails would grow the
	// tables without bound.
	go accounts.PruneThrottles(ctx, 10*time.Minute)
	slog.Info("login limits", "register", cfg.Limits.Register, "login", cfg.Limits.Login,
		"password_hash_slots", accounts.HashSlots(), "memory_limit", debug.SetMemoryLimit(-1))

	// The API hosts a worker on the same client as its starter: a new booking's first
	// workflow task is then handed back eagerly with the start, skipping a round trip through
	// the task queue on the POST that holds a slot.
	w, err := app.NewWorker(c, st, cfg, metrics.Prometheus())
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()

	srv := app.NewAPIServer(st, c, pc, accounts, cfg, metrics)
	handler := srv.Handler()
	if cfg.OTLPEndpoint != "" {
		handler = telemetry.HTTP(handler, "booking-api")
	}
	httpSrv := &http.Server{Addr: cfg.HTTPAddr, Handler: handler, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	opsSrv := &http.Server{Addr: cfg.OpsHTTPAddr, Handler: srv.OpsHandler(), ReadHeaderTimeout: 5 * time.Second}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serve(gctx, httpSrv, "api") })
	g.Go(func() error { return serve(gctx, opsSrv, "api ops") })
	return g.Wait()
}

// serve runs srv until ctx ends, then shuts it down gracefully: requests in flight finish.
func serve(ctx context.Context, srv *http.Server, name string) error {
	errc := make(chan error, 1)
	go func() {
		slog.Info(name+" listening", "addr", srv.Addr)
		errc <- srv.ListenAndServe()
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("%s: %w", name, err)
	case <-ctx.Done():
	}
	slog.Info(name + " shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
