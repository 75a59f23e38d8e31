package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	temporallog "go.temporal.io/sdk/log"
	"golang.org/x/sync/errgroup"

	"github.com/clinicbook/booking/activities"
	"github.com/clinicbook/booking/api"
	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/codec"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/notify"
	"github.com/clinicbook/booking/seed"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/telemetry"
	"github.com/clinicbook/booking/web"
	"github.com/clinicbook/booking/worker"
	"github.com/clinicbook/booking/workflows"
)

// openStore connects to PostgreSQL, creating the database when it is absent, and migrates.
func openStore(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	if err := store.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	pool, err := store.Open(ctx, cfg.DatabaseURL, store.WithMaxConns(cfg.DatabaseMaxConns))
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// dialTemporal connects to the Temporal frontend, waiting for it for up to two minutes
// because in `make dev` and in compose it may still be starting.
func dialTemporal(ctx context.Context, cfg config.Temporal, opts client.Options) (client.Client, error) {
	opts.HostPort = cfg.Address
	opts.Namespace = cfg.Namespace
	opts.Logger = temporallog.NewStructuredLogger(slog.Default())
	if cfg.TLS || cfg.TLSCertFile != "" || cfg.APIKey != "" {
		tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TLSServerName}
		if cfg.TLSCertFile != "" {
			cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
			if err != nil {
				return nil, fmt.Errorf("TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY: %w", err)
			}
			tlsCfg.Certificates = []tls.Certificate{cert}
		}
		if cfg.TLSCAFile != "" {
			pem, err := os.ReadFile(cfg.TLSCAFile)
			if err != nil {
				return nil, fmt.Errorf("TEMPORAL_TLS_CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, errors.New("TEMPORAL_TLS_CA: no certificate found")
			}
			tlsCfg.RootCAs = pool
		}
		opts.ConnectionOptions.TLS = tlsCfg
	}
	if cfg.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.APIKey)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("reach Temporal at %s: %w", cfg.Address, err)
		}
		slog.Info("waiting for Temporal", "address", cfg.Address, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
}

// newCodec is the payload codec of TEMPORAL_CODEC_KEYS. Without a key (only the dev sandbox
// may run so; config refuses it elsewhere) payloads are stored as they are.
func newCodec(cfg config.Config) (*codec.Codec, error) {
	keys := make([]codec.Key, len(cfg.Codec.Keys))
	for i, k := range cfg.Codec.Keys {
		keys[i] = codec.Key(k)
	}
	pc, err := codec.New(keys...)
	if err != nil {
		return nil, fmt.Errorf("TEMPORAL_CODEC_KEYS: %w", err)
	}
	if !pc.Encrypts() {
		slog.Warn("TEMPORAL_CODEC_KEYS is not set: payloads are stored in Temporal unencrypted (dev sandbox only)")
	}
	return pc, nil
}

// temporalOptions are the client options beyond the address: the payload codec, the SDK's
// metrics, and tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set. The returned shutdown flushes
// spans.
func temporalOptions(ctx context.Context, cfg config.Config, service string, metrics client.MetricsHandler, pc *codec.Codec) (client.Options, func(), error) {
	opts := client.Options{MetricsHandler: metrics, DataConverter: codec.DataConverter(pc),
		FailureConverter: codec.FailureConverter(pc)}
	if cfg.OTLPEndpoint == "" {
		return opts, func() {}, nil
	}
	shutdown, err := telemetry.Setup(ctx, cfg.OTLPEndpoint, service)
	if err != nil {
		return opts, nil, err
	}
	tracing, err := telemetry.TemporalInterceptor()
	if err != nil {
		return opts, nil, err
	}
	opts.Interceptors = []interceptor.ClientInterceptor{tracing}
	slog.Info("tracing to " + cfg.OTLPEndpoint)
	return opts, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = shutdown(ctx)
	}, nil
}

func newActivities(st *store.Store, cfg config.Config) *activities.Activities {
	return &activities.Activities{
		Store: st,
		Now:   time.Now,
		Notifier: activities.Notifier{
			SMS:           notify.NewSMS(cfg.Twilio, cfg.PublicBaseURL+"/v1/webhooks/twilio/status"),
			Email:         notify.NewMailer(cfg.SMTP),
			EmailLookup:   mailLookup(cfg.SMTP),
			PublicBaseURL: cfg.PublicBaseURL,
			Organizer:     cfg.SMTP.From,
		},
	}
}

// newReconciler is the reconciler's activities, counting into reg.
func newReconciler(st *store.Store, c client.Client, cfg config.Config, reg prometheus.Registerer) (*activities.Reconciler, error) {
	m, err := activities.NewReconcileMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &activities.Reconciler{
		Store:   st,
		Runs:    worker.BookingRuns{Client: c, TaskQueue: cfg.Temporal.TaskQueue, Policy: workflows.NewPolicy(cfg)},
		Metrics: m,
	}, nil
}

// ensureReconcileSchedule puts the reconciler's schedule in place. The worker, not the API,
// owns it: one kind of process to look at when it is wrong; every worker ensures it, so the
// schedule follows RECONCILE_INTERVAL on restart. It keeps trying in the background: a
// Temporal that refuses for a while (another worker's update racing this one, a missing
// permission) must not keep the worker from the bookings' own workflows.
func ensureReconcileSchedule(ctx context.Context, c client.Client, cfg config.Config, dc converter.DataConverter) {
	s := worker.ReconcileSchedule{ID: workflows.ReconcileScheduleID, TaskQueue: cfg.Temporal.TaskQueue, Every: cfg.ReconcileInterval,
		DataConverter: dc}
	for {
		err := worker.EnsureReconcileSchedule(ctx, c, s)
		if err == nil || ctx.Err() != nil {
			return
		}
		slog.Error("reconciler schedule not in place; trying again in 30s", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(30 * time.Second):
		}
	}
}

// newAccounts is the account service, with the bootstrap admin in place when configured.
func newAccounts(ctx context.Context, st *store.Store, cfg config.Config) (*auth.Service, error) {
	accounts := auth.NewService(st, cfg.JWT, time.Now, auth.Options{Limits: cfg.Limits})
	if cfg.AdminEmail != "" {
		if err := accounts.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword); err != nil {
			return nil, err
		}
	}
	return accounts, nil
}

func runMigrate(ctx context.Context, cfg config.Config) error {
	pool, err := openStore(ctx, cfg)
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
	pool, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	if bookings > 0 {
		_, err := seed.Scale(ctx, st, seed.ScaleSpec(bookings, time.Now()), os.Stdout)
		return err
	}
	accounts, err := newAccounts(ctx, st, cfg)
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
	pool, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pc, err := newCodec(cfg)
	if err != nil {
		return err
	}
	opts, shutdown, err := temporalOptions(ctx, cfg, "booking-worker", worker.MetricsHandler(reg), pc)
	if err != nil {
		return err
	}
	defer shutdown()
	c, err := dialTemporal(ctx, cfg.Temporal, opts)
	if err != nil {
		return err
	}
	defer c.Close()
	st := store.New(pool)
	w := worker.New(c, cfg.Temporal.TaskQueue, newActivities(st, cfg))
	rec, err := newReconciler(st, c, cfg, reg)
	if err != nil {
		return err
	}
	worker.RegisterReconciler(w, rec)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop() // waits for activities in flight, up to the worker's stop timeout
	go ensureReconcileSchedule(ctx, c, cfg, opts.DataConverter)

	ops := &http.Server{Addr: cfg.WorkerHTTPAddr, Handler: worker.OpsHandler(pool, c, reg), ReadHeaderTimeout: 5 * time.Second}
	return serve(ctx, ops, "worker")
}

func runAPI(ctx context.Context, cfg config.Config) error {
	pool, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	metrics := api.NewRegistry(st.CountByStatus)
	pc, err := newCodec(cfg)
	if err != nil {
		return err
	}
	opts, shutdown, err := temporalOptions(ctx, cfg, "booking-api", worker.MetricsHandler(metrics.Prometheus()), pc)
	if err != nil {
		return err
	}
	defer shutdown()
	c, err := dialTemporal(ctx, cfg.Temporal, opts)
	if err != nil {
		return err
	}
	defer c.Close()

	accounts, err := newAccounts(ctx, st, cfg)
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
	w := worker.New(c, cfg.Temporal.TaskQueue, newActivities(st, cfg))
	// The reconciler's runs share the task queue, so this worker may be handed them too.
	rec, err := newReconciler(st, c, cfg, metrics.Prometheus())
	if err != nil {
		return err
	}
	worker.RegisterReconciler(w, rec)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()

	srv := &api.Server{
		Store: st, Temporal: c, Codec: pc, Accounts: accounts, Config: cfg, Now: time.Now, Metrics: metrics,
		Ready: func(ctx context.Context) error { return worker.Ready(ctx, pool, c) },
		// Verification codes want no delivery reports: nothing records them.
		Codes: notify.CodeSender{SMS: notify.NewSMS(cfg.Twilio, ""), Email: notify.NewMailer(cfg.SMTP)},
		Web:   web.Dist,
	}
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

// mailLookup is the relay's lookup when SMTP_LOOKUP_URL names one, else nil (an interface
// holding a nil *MailLookup would not be).
func mailLookup(cfg config.SMTP) activities.EmailFinder {
	if cfg.LookupURL == "" {
		return nil
	}
	return notify.NewMailLookup(cfg.LookupURL)
}
