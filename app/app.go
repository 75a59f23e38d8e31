// Package app wires the platform from its configuration: the store, the Temporal client and
// its codec, the activities and their senders, the worker with the reconciler, the account
// service and the API server. It is the one place that does: cmd/booking runs what it builds,
// and the end-to-end tests build their platform with it too, so that the tests exercise the
// wiring production runs rather than a copy of it that drifts.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/clinicbook/booking/activities"
	"github.com/clinicbook/booking/api"
	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/codec"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/notify"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/web"
	"github.com/clinicbook/booking/worker"
	"github.com/clinicbook/booking/workflows"
)

// OpenStore connects to PostgreSQL, creating the database when it is absent, and migrates:
// every command starts from the schema its code expects, whichever process comes up first.
func OpenStore(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
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

// NewActivities is the booking's activities over st with the senders of cfg: SMS through
// Twilio (delivery reports to PUBLIC_BASE_URL's webhook), email through the SMTP relay, and
// the relay's lookup when SMTP_LOOKUP_URL names one, which settles an email whose send was
// never acknowledged instead of sending it again.
func NewActivities(st *store.Store, cfg config.Config) *activities.Activities {
	return &activities.Activities{
		Store: st,
		Now:   time.Now,
		Notifier: activities.Notifier{
			SMS:           notify.NewSMS(cfg.Twilio, cfg.PublicBaseURL+"/v1/webhooks/twilio/status"),
			Email:         notify.NewMailer(cfg.SMTP),
			EmailLookup:   emailLookup(cfg.SMTP),
			PublicBaseURL: cfg.PublicBaseURL,
			Organizer:     cfg.SMTP.From,
		},
	}
}

// emailLookup is the relay's lookup when SMTP_LOOKUP_URL names one, else a nil interface: one
// holding a nil *notify.MailLookup would not be nil, and the activities would call it.
func emailLookup(cfg config.SMTP) activities.EmailFinder {
	if cfg.LookupURL == "" {
		return nil
	}
	return notify.NewMailLookup(cfg.LookupURL)
}

// NewReconciler is the reconciler's activities, counting into reg. The bookings it resumes
// start on cfg's task queue with cfg's policy, as new ones do.
func NewReconciler(st *store.Store, c client.Client, cfg config.Config, reg prometheus.Registerer) (*activities.Reconciler, error) {
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

// NewWorker is a worker on cfg's task queue running the booking workflow with NewActivities,
// and the reconciler (NewReconciler, counting into reg): its runs share the task queue, so any
// worker may be handed them. The worker process runs one; so does the API process, on the
// client it starts bookings with, so that a new booking's first workflow task comes back to
// it eagerly. The caller starts and stops it.
func NewWorker(c client.Client, st *store.Store, cfg config.Config, reg prometheus.Registerer) (sdkworker.Worker, error) {
	rec, err := NewReconciler(st, c, cfg, reg)
	if err != nil {
		return nil, err
	}
	w := worker.New(c, cfg.Temporal.TaskQueue, NewActivities(st, cfg))
	worker.RegisterReconciler(w, rec)
	return w, nil
}

// EnsureReconcileSchedule puts the reconciler's schedule in place, running every
// RECONCILE_INTERVAL on cfg's task queue, with its input encoded by dc. The worker, not the
// API, owns it: one kind of process to look at when it is wrong; every worker ensures it, so
// the schedule follows RECONCILE_INTERVAL on restart. It keeps trying until ctx ends, so run
// it in the background: a Temporal that refuses for a while (another worker's update racing
// this one, a missing permission) must not keep the worker from the bookings' own workflows.
func EnsureReconcileSchedule(ctx context.Context, c client.Client, cfg config.Config, dc converter.DataConverter) {
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

// NewAccounts is the account service, with the bootstrap admin (ADMIN_EMAIL) created when
// configured and absent, so that a fresh deployment has someone who can log in as admin.
func NewAccounts(ctx context.Context, st *store.Store, cfg config.Config) (*auth.Service, error) {
	accounts := auth.NewService(st, cfg.JWT, time.Now, auth.Options{Limits: cfg.Limits})
	if cfg.AdminEmail != "" {
		if err := accounts.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword); err != nil {
			return nil, err
		}
	}
	return accounts, nil
}

// NewAPIServer is the API over st and c as production serves it: payloads through pc (the
// codec server at /codec/ uses it too), /readyz answering whether PostgreSQL and Temporal
// answer, verification codes sent by SMS and email without delivery reports (nothing records
// them), the embedded web app at /, and the request metrics in metrics, which also carries the
// SDK's (nil: a registry of the server's own).
func NewAPIServer(st *store.Store, c client.Client, pc *codec.Codec, accounts *auth.Service, cfg config.Config, metrics *api.Registry) *api.Server {
	return &api.Server{
		Store: st, Temporal: c, Codec: pc, Accounts: accounts, Config: cfg, Now: time.Now, Metrics: metrics,
		Ready: func(ctx context.Context) error { return worker.Ready(ctx, st.Pool(), c) },
		Codes: notify.CodeSender{SMS: notify.NewSMS(cfg.Twilio, ""), Email: notify.NewMailer(cfg.SMTP)},
		Web:   web.Dist,
	}
}
