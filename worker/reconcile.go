package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/clinicbook/booking/activities"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/workflows"
)

// RegisterReconciler puts the reconciler's workflow and activities on r. Every worker on the
// task queue the reconciler's schedule starts it on needs them, or its tasks would bounce
// between workers that can and cannot run them.
func RegisterReconciler(r worker.Registry, rec *activities.Reconciler) {
	RegisterReconcileWorkflow(r)
	r.RegisterActivity(rec)
}

// RegisterReconcileWorkflow registers the reconciler's workflow alone, as a replayer needs.
func RegisterReconcileWorkflow(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(workflows.ReconcileWorkflow, workflow.RegisterOptions{Name: workflows.ReconcileWorkflowName})
}

// BookingRuns answers the reconciler's questions about bookings' workflows with the Temporal
// client (activities.BookingRuns).
type BookingRuns struct {
	Client    client.Client
	TaskQueue string
	// Policy is what a resumed booking runs under: the current configuration's, as a new
	// booking would get (workflows.NewPolicy).
	Policy workflows.Policy
}

// Running reports whether the booking's workflow has an open run; a workflow Temporal does not
// know (never started, or closed beyond the namespace's retention) is not running.
func (r BookingRuns) Running(ctx context.Context, bookingID string) (bool, error) {
	id := workflows.BookingWorkflowID(bookingID)
	resp, err := r.Client.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("describe %s: %w", id, err)
	}
	return resp.GetWorkflowExecutionInfo().GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}

// Resume starts a new run of the booking's workflow that reads the booking from the database
// and carries on from its status.
func (r BookingRuns) Resume(ctx context.Context, b domain.Booking) (bool, error) {
	id := workflows.BookingWorkflowID(b.ID)
	_, err := r.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: r.TaskQueue,
		// A closed workflow (terminated, failed, timed out, or completed while the database
		// says otherwise) gets a new run. An open one is never touched: the start is refused
		// rather than joining it (USE_EXISTING) or replacing it (TERMINATE_EXISTING), and the
		// refusal is an error rather than a handle on the open run.
		WorkflowIDReusePolicy:                    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy:                 enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.WorkflowName, workflows.Input{
		BookingID: b.ID, ProviderID: b.ProviderID, ServiceID: b.ServiceID, PatientID: b.PatientID,
		Start: b.Start, Notes: b.Notes, Policy: r.Policy, Resume: true,
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("resume %s: %w", id, err)
	}
	return true, nil
}

// ReconcileSchedule is the reconciler's Temporal Schedule.
type ReconcileSchedule struct {
	// ID is the schedule's id, workflows.ReconcileScheduleID in production; each run's
	// workflow id is it plus a timestamp.
	ID        string
	TaskQueue string
	Every     time.Duration
	Input     workflows.ReconcileInput
	// DataConverter is the client's (the codec's): a described schedule's arguments come
	// back as the client encoded them. Nil is the SDK's default.
	DataConverter converter.DataConverter
}

// EnsureReconcileSchedule creates the reconciler's schedule, or brings an existing one to s
// when its interval, task queue or input differ. Every worker calls it at start-up, so it is
// safe to run many times and at once. A schedule an operator paused stays paused.
func EnsureReconcileSchedule(ctx context.Context, c client.Client, s ReconcileSchedule) error {
	action := &client.ScheduleWorkflowAction{
		ID:        s.ID,
		Workflow:  workflows.ReconcileWorkflowName,
		Args:      []any{s.Input},
		TaskQueue: s.TaskQueue,
		// A run that hangs must not keep the schedule skipping for ever.
		WorkflowRunTimeout: max(10*time.Minute, 2*s.Every),
	}
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: s.Every}}}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:     s.ID,
		Spec:   spec,
		Action: action,
		// A run still going when the next is due has that work in hand already.
		Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		// After downtime one run catches up on everything; a burst of missed ones would not
		// do more.
		CatchupWindow: max(time.Minute, s.Every),
	})
	if err == nil {
		slog.InfoContext(ctx, "reconciler schedule created", "schedule", s.ID, "every", s.Every)
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create schedule %s: %w", s.ID, err)
	}
	updated := false
	err = c.ScheduleClient().GetHandle(ctx, s.ID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			sched := in.Description.Schedule
			if sameReconcileSchedule(sched, s) {
				return nil, temporal.ErrSkipScheduleUpdate
			}
			sched.Spec = &spec
			sched.Action = action
			if sched.Policy != nil {
				sched.Policy.Overlap = enums.SCHEDULE_OVERLAP_POLICY_SKIP
			}
			updated = true
			return &client.ScheduleUpdate{Schedule: &sched}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update schedule %s: %w", s.ID, err)
	}
	if updated {
		slog.InfoContext(ctx, "reconciler schedule updated", "schedule", s.ID, "every", s.Every)
	}
	return nil
}

// sameReconcileSchedule reports whether the described schedule already does what s asks.
func sameReconcileSchedule(sched client.Schedule, s ReconcileSchedule) bool {
	if sched.Spec == nil || len(sched.Spec.Intervals) != 1 || sched.Spec.Intervals[0].Every != s.Every ||
		sched.Spec.Intervals[0].Offset != 0 || len(sched.Spec.Calendars) > 0 || len(sched.Spec.CronExpressions) > 0 {
		return false
	}
	action, ok := sched.Action.(*client.ScheduleWorkflowAction)
	if !ok || action.TaskQueue != s.TaskQueue || action.Workflow != workflows.ReconcileWorkflowName || len(action.Args) != 1 {
		return false
	}
	// On describe the arguments come back encoded.
	payload, ok := action.Args[0].(*commonpb.Payload)
	if !ok {
		return false
	}
	dc := s.DataConverter
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	var in workflows.ReconcileInput
	if err := dc.FromPayload(payload, &in); err != nil {
		return false
	}
	return in == s.Input && (sched.Policy == nil || sched.Policy.Overlap == enums.SCHEDULE_OVERLAP_POLICY_SKIP)
}
