package activities

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/clinicbook/booking/activities/contract"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
)

// BookingRuns is what the reconciler asks Temporal about bookings' workflows. The worker
// provides it (worker.BookingRuns), so that this package needs neither a Temporal client nor
// the workflow package.
type BookingRuns interface {
	// Running reports whether the booking's workflow has an open run.
	Running(ctx context.Context, bookingID string) (bool, error)
	// Resume starts a run that carries the booking on from the database's state. It reports
	// false, and touches nothing, when a run is open already.
	Resume(ctx context.Context, b domain.Booking) (bool, error)
}

// ReconcileStore is what the reconciler needs of the database: its two listings, the
// conditional expiry of a lapsed hold, and a fresh read of a booking before it is resumed.
// *store.Store is the one the worker uses; it is an interface, listing just these methods, so
// that the reconciler can be tested without PostgreSQL.
type ReconcileStore interface {
	LapsedHolds(ctx context.Context, cutoff time.Time, after store.Cursor, limit int) ([]domain.Booking, error)
	ExpireLapsedHold(ctx context.Context, id string, cutoff time.Time, by, reason string) (bool, error)
	LiveBookings(ctx context.Context, now time.Time, after store.Cursor, limit int) ([]domain.Booking, error)
	GetBooking(ctx context.Context, id string) (domain.Booking, error)
}

// Reconciler holds the reconciler's activities: they repair bookings whose workflow is gone
// (terminated from the Web UI, failed, lost with a namespace). Register a *Reconciler with the
// worker beside *Activities.
type Reconciler struct {
	Store ReconcileStore
	Runs  BookingRuns
	// Metrics, when set, counts what the reconciler checked and repaired.
	Metrics *ReconcileMetrics
}

// storeCursor is the store's form of a listing's cursor.
func storeCursor(c *contract.ReconcileCursor) store.Cursor {
	if c == nil {
		return store.Cursor{}
	}
	return store.Cursor{At: c.At, ID: c.ID}
}

// reconcileParallelism bounds the Temporal calls one page has in flight.
const reconcileParallelism = 8

// ExpiredByReconciler is the reason the timeline gives for the reconciler's expiries.
const ExpiredByReconciler = "expired by the reconciler: the hold had lapsed and its workflow was not running"

// ExpireLapsedHolds expires, from one page of holds past their expiry plus the grace, those
// whose workflow is not running. A hold whose workflow runs is left to it.
func (r *Reconciler) ExpireLapsedHolds(ctx context.Context, in contract.ReconcilePage) (contract.ReconcilePageResult, error) {
	cutoff := in.Now.Add(-in.Grace)
	holds, err := r.Store.LapsedHolds(ctx, cutoff, storeCursor(in.After), in.Limit)
	if err != nil {
		return contract.ReconcilePageResult{}, err
	}
	out := r.each(ctx, holds, "expired lapsed hold", func(ctx context.Context, b domain.Booking) (bool, error) {
		running, err := r.Runs.Running(ctx, b.ID)
		if err != nil || running {
			return false, err
		}
		return r.Store.ExpireLapsedHold(ctx, b.ID, cutoff, "reconciler", ExpiredByReconciler)
	})
	if len(holds) == in.Limit && in.Limit > 0 {
		last := holds[len(holds)-1]
		out.Next = &contract.ReconcileCursor{At: *last.HoldExpiresAt, ID: last.ID}
	}
	r.Metrics.add(out.Checked, out.Repaired, 0, out.Failed)
	return out, nil
}

// ResumeLiveBookings starts a new run, carrying on from the database, for each booking of one
// page of live ones (confirmed or checked in, not yet over) whose workflow is not running.
// A running workflow is never touched.
func (r *Reconciler) ResumeLiveBookings(ctx context.Context, in contract.ReconcilePage) (contract.ReconcilePageResult, error) {
	live, err := r.Store.LiveBookings(ctx, in.Now, storeCursor(in.After), in.Limit)
	if err != nil {
		return contract.ReconcilePageResult{}, err
	}
	out := r.each(ctx, live, "resumed workflow", func(ctx context.Context, b domain.Booking) (bool, error) {
		running, err := r.Runs.Running(ctx, b.ID)
		if err != nil || running {
			return false, err
		}
		// The workflow may have closed because the booking just ended (a cancel, a no-show)
		// after the page was read: resume only what is still live now.
		cur, err := r.Store.GetBooking(ctx, b.ID)
		if err != nil {
			return false, err
		}
		if cur.Status != domain.StatusConfirmed && cur.Status != domain.StatusCheckedIn {
			return false, nil
		}
		return r.Runs.Resume(ctx, cur)
	})
	if len(live) == in.Limit && in.Limit > 0 {
		last := live[len(live)-1]
		out.Next = &contract.ReconcileCursor{At: last.End, ID: last.ID}
	}
	r.Metrics.add(out.Checked, 0, out.Repaired, out.Failed)
	return out, nil
}

// each runs fix for every booking, a few at a time. A booking that fails is logged and
// counted, never the end of the page: one bad row must not stall the rest run after run.
func (r *Reconciler) each(ctx context.Context, bs []domain.Booking, done string, fix func(context.Context, domain.Booking) (bool, error)) contract.ReconcilePageResult {
	out := contract.ReconcilePageResult{Checked: len(bs)}
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(reconcileParallelism)
	for _, b := range bs {
		g.Go(func() error {
			changed, err := fix(ctx, b)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				out.Failed++
				slog.WarnContext(ctx, "reconciler: booking not repaired", "booking_id", b.ID, "err", err)
			case changed:
				out.Repaired++
				slog.InfoContext(ctx, "reconciler: "+done, "booking_id", b.ID, "status", b.Status)
			}
			return nil
		})
	}
	_ = g.Wait()
	return out
}

// ReconcileMetrics counts the reconciler's work on the worker's /metrics.
type ReconcileMetrics struct {
	checked, expired, resumed, failed prometheus.Counter
}

// NewReconcileMetrics creates the reconciler's counters in reg.
func NewReconcileMetrics(reg prometheus.Registerer) (*ReconcileMetrics, error) {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "booking_reconciler_" + name + "_total", Help: help})
	}
	m := &ReconcileMetrics{
		checked: counter("checked", "Bookings the reconciler looked at: lapsed holds and live bookings."),
		expired: counter("expired", "Lapsed holds the reconciler expired because their workflow was not running."),
		resumed: counter("resumed", "Live bookings whose workflow was not running and that the reconciler started again."),
		failed:  counter("errors", "Bookings the reconciler could not check or repair; the next run tries again."),
	}
	for _, c := range []prometheus.Collector{m.checked, m.expired, m.resumed, m.failed} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("reconciler metrics: %w", err)
		}
	}
	return m, nil
}

func (m *ReconcileMetrics) add(checked, expired, resumed, failed int) {
	if m == nil {
		return
	}
	m.checked.Add(float64(checked))
	m.expired.Add(float64(expired))
	m.resumed.Add(float64(resumed))
	m.failed.Add(float64(failed))
}
