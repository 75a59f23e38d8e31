package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/clinicbook/booking/activities"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/internal/temporaltest"
	"github.com/clinicbook/booking/worker"
	"github.com/clinicbook/booking/workflows"
)

// reconciler runs the platform's reconciler on its own schedule, every `every`, and returns the
// URL of a /metrics that shows its counts. It has a task queue of its own, so that the
// platform's workers (which do not register the reconciler) never see its tasks; the bookings'
// workflows it resumes go to the platform's queue.
func (p *platform) reconciler(every time.Duration, in workflows.ReconcileInput) string {
	p.t.Helper()
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	m, err := activities.NewReconcileMetrics(reg)
	require.NoError(p.t, err)
	queue := "reconcile-" + p.cfg.Temporal.TaskQueue
	w := worker.New(p.temporal, queue, &activities.Activities{Store: p.st, Now: time.Now})
	worker.RegisterReconciler(w, &activities.Reconciler{Store: p.st, Metrics: m, Runs: worker.BookingRuns{
		Client: p.temporal, TaskQueue: p.cfg.Temporal.TaskQueue, Policy: workflows.NewPolicy(p.cfg)}})
	require.NoError(p.t, w.Start())
	p.t.Cleanup(w.Stop)

	id := workflows.ReconcileScheduleID + "-" + p.cfg.Temporal.TaskQueue
	require.NoError(p.t, worker.EnsureReconcileSchedule(ctx, p.temporal, worker.ReconcileSchedule{ID: id, TaskQueue: queue, Every: every, Input: in,
		DataConverter: temporaltest.DataConverter()}))
	p.t.Cleanup(func() {
		_ = p.temporal.ScheduleClient().GetHandle(context.Background(), id).Delete(context.Background())
	})

	ops := httptest.NewServer(worker.OpsHandler(nil, p.temporal, reg))
	p.t.Cleanup(ops.Close)
	return ops.URL + "/metrics"
}

// Issue 11's "done when": a booking's workflow terminated from the Temporal CLI. A held booking
// is expired and its slot offered again, a confirmed future booking has a running workflow
// again, both within two reconciler intervals; a running workflow is left alone; the counts
// reach /metrics.
func TestReconcilerRepairsBookingsWhoseWorkflowIsGone(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, func(c *config.Config) { c.HoldTTL = 5 * time.Second })
	ctx := context.Background()
	_, token := p.patient("rita@example.com", "+15550004444")

	// A hold whose workflow an admin terminates: nothing will expire it but the reconciler.
	heldAt := tomorrowAt(9, 0)
	held := p.bookAt(token, p.provider.ID, heldAt)
	out, err := exec.Command("../bin/temporal", "workflow", "terminate", "--address", devServer.Address(),
		"--namespace", "default", "--workflow-id", workflows.BookingWorkflowID(held.ID), "--reason", "admin in the Web UI").CombinedOutput()
	require.NoError(t, err, "%s", out)

	// A confirmed booking whose workflow is terminated, and one whose workflow keeps running.
	gone := p.bookConfirmed(token, tomorrowAt(10, 0))
	goneRun := p.describe(gone).GetWorkflowExecutionInfo().GetExecution().GetRunId()
	require.NoError(t, p.temporal.TerminateWorkflow(ctx, workflows.BookingWorkflowID(gone), "", "admin in the Web UI"))
	kept := p.bookConfirmed(token, tomorrowAt(11, 0))
	keptRun := p.describe(kept).GetWorkflowExecutionInfo().GetExecution().GetRunId()

	require.False(t, p.reconcilerSlotOffered(heldAt))
	every := 2 * time.Second
	metrics := p.reconciler(every, workflows.ReconcileInput{HoldGrace: time.Second})

	// The hold lapses 5 s after it was made; one second of grace, then two intervals.
	deadline := time.Until(held.HoldExpiresAt.Add(time.Second+2*every)) + 3*time.Second
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		b, err := p.st.GetBooking(ctx, held.ID)
		require.NoError(c, err)
		assert.Equal(c, domain.StatusExpired, b.Status)
	}, deadline, 200*time.Millisecond)
	require.True(t, p.reconcilerSlotOffered(heldAt), "the slot is offered again")
	events, err := p.st.ListEvents(ctx, held.ID)
	require.NoError(t, err)
	last := events[len(events)-1]
	require.Equal(t, "expired", last.Detail["status"])
	require.Equal(t, "reconciler", last.Detail["by"])
	require.Equal(t, activities.ExpiredByReconciler, last.Detail["reason"])

	// The confirmed booking has a new run, following the database.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		info := p.describe(gone).GetWorkflowExecutionInfo()
		assert.Equal(c, enums.WORKFLOW_EXECUTION_STATUS_RUNNING, info.GetStatus())
		assert.NotEqual(c, goneRun, info.GetExecution().GetRunId())
		var status string
		if sa := info.GetSearchAttributes().GetIndexedFields()[workflows.StatusAttr.GetName()]; sa != nil {
			assert.NoError(c, converter.GetDefaultDataConverter().FromPayload(sa, &status))
		}
		assert.Equal(c, string(domain.StatusConfirmed), status)
	}, 2*every+5*time.Second, 200*time.Millisecond)
	b, err := p.st.GetBooking(ctx, gone)
	require.NoError(t, err)
	require.Equal(t, domain.StatusConfirmed, b.Status)

	// The run that resumed it checked the running one too, and left it as it was.
	info := p.describe(kept).GetWorkflowExecutionInfo()
	require.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_RUNNING, info.GetStatus())
	require.Equal(t, keptRun, info.GetExecution().GetRunId())

	// The counts reach the worker's /metrics.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := scrape(c, metrics)
		assert.GreaterOrEqual(c, got["booking_reconciler_expired_total"], 1.0)
		assert.GreaterOrEqual(c, got["booking_reconciler_resumed_total"], 1.0)
		assert.GreaterOrEqual(c, got["booking_reconciler_checked_total"], 3.0)
		assert.Equal(c, 0.0, got["booking_reconciler_errors_total"])
	}, 5*time.Second, 100*time.Millisecond)

	// A second run later repairs nothing more: the resumed workflow is running, and the
	// expired hold is no longer held.
	before := scrape(t, metrics)
	time.Sleep(2 * every)
	after := scrape(t, metrics)
	require.Equal(t, before["booking_reconciler_resumed_total"], after["booking_reconciler_resumed_total"])
	require.Equal(t, before["booking_reconciler_expired_total"], after["booking_reconciler_expired_total"])
	require.Greater(t, after["booking_reconciler_checked_total"], before["booking_reconciler_checked_total"])
}

// Every worker ensures the schedule at start-up: a second call changes nothing, a new interval
// is applied to the existing schedule.
func TestReconcileScheduleIsEnsuredIdempotently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, err := client.Dial(client.Options{HostPort: devServer.Address(), Namespace: "default", Logger: quiet{},
		DataConverter: temporaltest.DataConverter(), FailureConverter: temporaltest.FailureConverter()})
	require.NoError(t, err)
	defer c.Close()
	s := worker.ReconcileSchedule{ID: "booking-reconciler-" + uuid.NewString()[:8], TaskQueue: "reconcile-" + uuid.NewString()[:8], Every: time.Hour,
		DataConverter: temporaltest.DataConverter()}
	h := c.ScheduleClient().GetHandle(ctx, s.ID)
	defer func() { _ = h.Delete(context.Background()) }()

	require.NoError(t, worker.EnsureReconcileSchedule(ctx, c, s))
	first, err := h.Describe(ctx)
	require.NoError(t, err)
	require.Equal(t, enums.SCHEDULE_OVERLAP_POLICY_SKIP, first.Schedule.Policy.Overlap)
	action := first.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.Equal(t, workflows.ReconcileWorkflowName, action.Workflow)
	require.Equal(t, s.TaskQueue, action.TaskQueue)

	require.NoError(t, worker.EnsureReconcileSchedule(ctx, c, s))
	same, err := h.Describe(ctx)
	require.NoError(t, err)
	require.Equal(t, first.Info.LastUpdateAt, same.Info.LastUpdateAt, "an unchanged schedule is not updated")

	s.Every = 30 * time.Minute
	require.NoError(t, worker.EnsureReconcileSchedule(ctx, c, s))
	changed, err := h.Describe(ctx)
	require.NoError(t, err)
	require.Equal(t, 30*time.Minute, changed.Schedule.Spec.Intervals[0].Every)
}

// describe is what Temporal knows of a booking's workflow.
func (p *platform) describe(bookingID string) *workflowservice.DescribeWorkflowExecutionResponse {
	p.t.Helper()
	resp, err := p.temporal.DescribeWorkflowExecution(context.Background(), workflows.BookingWorkflowID(bookingID), "")
	require.NoError(p.t, err)
	return resp
}

// reconcilerSlotOffered reports whether the availability route offers start.
func (p *platform) reconcilerSlotOffered(start time.Time) bool {
	p.t.Helper()
	var av struct {
		Slots []domain.Slot `json:"slots"`
	}
	q := "/v1/providers/" + p.provider.ID + "/availability?service_id=" + p.service.ID +
		"&from=" + start.Add(-time.Hour).UTC().Format(time.RFC3339) + "&to=" + start.Add(time.Hour).UTC().Format(time.RFC3339)
	require.Equal(p.t, http.StatusOK, p.do("GET", q, "", nil, &av))
	for _, s := range av.Slots {
		if s.Start.Equal(start) {
			return true
		}
	}
	return false
}

// scrape reads the unlabelled samples of a /metrics answer, by name.
func scrape(t require.TestingT, url string) map[string]float64 {
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") || strings.Contains(name, "{") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		require.NoError(t, err, line)
		out[name] = v
	}
	return out
}
