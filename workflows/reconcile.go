package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/clinicbook/booking/activities/contract"
)

// The reconciler, as admins see it in the Web UI: a Temporal Schedule that starts
// ReconcileWorkflow every RECONCILE_INTERVAL.
const (
	ReconcileWorkflowName = "ReconcileWorkflow"
	ReconcileScheduleID   = "booking-reconciler"
)

// Defaults of ReconcileInput.
const (
	DefaultReconcileHoldGrace = 30 * time.Second
	DefaultReconcilePageSize  = 200
	DefaultReconcileMaxPages  = 10
)

// reconcileAttempts bounds the tries of a reconciler step: 1+2+4+8+10+10+10 s apart, about
// 45 s in all.
const reconcileAttempts = 8

// ReconcileInput tunes a reconciler run; the zero value is the defaults.
type ReconcileInput struct {
	// HoldGrace is how long past its expiry a hold is left to its own workflow, whose timer
	// may be a little late.
	HoldGrace time.Duration `json:"hold_grace,omitempty"`
	PageSize  int           `json:"page_size,omitempty"`
	// MaxPages bounds the pages of each listing one run reads; the next run carries on where
	// this one stopped.
	MaxPages int `json:"max_pages,omitempty"`
}

// ReconcileResult is what one run checked and repaired. The next run of the schedule reads the
// cursors from it (its last completion result).
type ReconcileResult struct {
	Checked int `json:"checked"`
	Expired int `json:"expired"`
	Resumed int `json:"resumed"`
	Failed  int `json:"failed"`
	// HeldCursor and LiveCursor are where the listings stopped when MaxPages ran out; nil
	// when the run reached the end.
	HeldCursor *contract.ReconcileCursor `json:"held_cursor,omitempty"`
	LiveCursor *contract.ReconcileCursor `json:"live_cursor,omitempty"`
}

// ReconcileWorkflow repairs what the bookings' own workflows cannot, because they are gone:
// holds past their expiry whose workflow is not running are expired (their slot is free
// again), and live bookings whose workflow is not running get a new run that carries on from
// the database. Every step is safe to repeat, so runs may overlap with bookings' own workflows
// and with each other.
func ReconcileWorkflow(ctx workflow.Context, in ReconcileInput) (ReconcileResult, error) {
	if in.HoldGrace <= 0 {
		in.HoldGrace = DefaultReconcileHoldGrace
	}
	if in.PageSize <= 0 {
		in.PageSize = DefaultReconcilePageSize
	}
	if in.MaxPages <= 0 {
		in.MaxPages = DefaultReconcileMaxPages
	}
	var last ReconcileResult
	if workflow.HasLastCompletionResult(ctx) {
		// A result this code cannot read only costs starting the listings from the top.
		_ = workflow.GetLastCompletionResult(ctx, &last)
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		// The next run repeats the work anyway: some tries, then leave it to that one. Tries
		// over about 45 s, not 3 s: a restart of PostgreSQL must not fail the run (make chaos
		// found three tries over 3 s failing it); a longer outage still does. A try cut short
		// by a worker's death is retried after StartToCloseTimeout, whatever this says.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 10 * time.Second, MaximumAttempts: reconcileAttempts},
	})
	now := workflow.Now(ctx)
	var out ReconcileResult
	var errs []error

	held, err := walk(ctx, contract.ExpireLapsedHolds, contract.ReconcilePage{Now: now, Grace: in.HoldGrace, After: last.HeldCursor, Limit: in.PageSize}, in.MaxPages)
	out.Checked, out.Expired, out.Failed, out.HeldCursor = held.Checked, held.Repaired, held.Failed, held.Next
	if err != nil {
		errs = append(errs, fmt.Errorf("expire lapsed holds: %w", err))
	}
	live, err := walk(ctx, contract.ResumeLiveBookings, contract.ReconcilePage{Now: now, After: last.LiveCursor, Limit: in.PageSize}, in.MaxPages)
	out.Checked += live.Checked
	out.Resumed, out.LiveCursor = live.Repaired, live.Next
	out.Failed += live.Failed
	if err != nil {
		errs = append(errs, fmt.Errorf("resume live bookings: %w", err))
	}

	workflow.GetLogger(ctx).Info("reconciled", "checked", out.Checked, "expired", out.Expired,
		"resumed", out.Resumed, "failed", out.Failed)
	return out, errors.Join(errs...)
}

// walk reads up to maxPages pages of one listing from page.After on, adding up what they
// did. Next in its answer is where it stopped, nil when it reached the end.
func walk(ctx workflow.Context, activity string, page contract.ReconcilePage, maxPages int) (contract.ReconcilePageResult, error) {
	var sum contract.ReconcilePageResult
	sum.Next = page.After
	for range maxPages {
		var got contract.ReconcilePageResult
		if err := workflow.ExecuteActivity(ctx, activity, page).Get(ctx, &got); err != nil {
			return sum, err
		}
		sum.Checked += got.Checked
		sum.Repaired += got.Repaired
		sum.Failed += got.Failed
		sum.Next = got.Next
		if got.Next == nil {
			break
		}
		page.After = got.Next
	}
	return sum, nil
}
