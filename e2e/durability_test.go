package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/clinicbook/booking/activities"
	"github.com/clinicbook/booking/activities/contract"
	"github.com/clinicbook/booking/app"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	bookingworker "github.com/clinicbook/booking/worker"
	"github.com/clinicbook/booking/workflows"
)

// Issue 11's edges, against the real dev server: a hold that fails after its insert
// committed, a workflow cancelled during the hold, a database that moved before the workflow,
// and timers that must not pile up.

// faultyHold is the real activities with a HoldSlot that commits and then misbehaves: it takes
// its time, or its answer is lost on the way back.
type faultyHold struct {
	*activities.Activities
	delay time.Duration
	fail  bool
}

func (f faultyHold) HoldSlot(ctx context.Context, in contract.HoldInput) (domain.Booking, error) {
	b, err := f.Activities.HoldSlot(ctx, in)
	if err != nil {
		return b, err
	}
	time.Sleep(f.delay)
	if f.fail {
		// What a real worker makes of a Go error from the store: an application error whose
		// type is the Go type's name. Not retried, to keep the test short; retried, it would
		// fail the same way once the local activity's budget ran out.
		return domain.Booking{}, temporal.NewNonRetryableApplicationError("connection lost after commit", "wrapError", io.ErrUnexpectedEOF)
	}
	return b, nil
}

// withFaultyHold moves the platform's API to a task queue served only by a worker whose
// HoldSlot is f.
func (p *platform) withFaultyHold(f faultyHold) {
	p.t.Helper()
	p.serveAPIWithoutWorker()
	p.startFaultyWorker(p.cfg.Temporal.TaskQueue, f)
}

// faultyWorker starts a worker whose HoldSlot is f on a task queue of its own, and returns it.
func (p *platform) faultyWorker(f faultyHold) string {
	queue := "booking-faulty-" + uuid.NewString()[:8]
	p.startFaultyWorker(queue, f)
	return queue
}

func (p *platform) startFaultyWorker(queue string, f faultyHold) {
	p.t.Helper()
	f.Activities = app.NewActivities(p.st, p.cfg)
	w := sdkworker.New(p.temporal, queue, sdkworker.Options{})
	bookingworker.RegisterWorkflow(w)
	w.RegisterActivity(&f)
	require.NoError(p.t, w.Start())
	p.t.Cleanup(w.Stop)
}

// patientBookings is every booking of a patient, as the database has it.
func (p *platform) patientBookings(patientID string) []domain.Booking {
	p.t.Helper()
	bs, err := p.st.ListBookings(context.Background(), store.BookingFilter{PatientID: patientID, Limit: 100})
	require.NoError(p.t, err)
	return bs
}

func (p *platform) slotOffered(start time.Time) bool {
	p.t.Helper()
	var av struct {
		Slots []domain.Slot `json:"slots"`
	}
	from := start.Add(-time.Hour).Format(time.RFC3339)
	to := start.Add(time.Hour).Format(time.RFC3339)
	path := fmt.Sprintf("/v1/providers/%s/availability?service_id=%s&from=%s&to=%s", p.provider.ID, p.service.ID,
		url.QueryEscape(from), url.QueryEscape(to))
	require.Equal(p.t, http.StatusOK, p.do("GET", path, "", nil, &av))
	for _, s := range av.Slots {
		if s.Start.Equal(start) {
			return true
		}
	}
	return false
}

// Point 1: the hold's answer is lost after its insert committed. The workflow must expire what
// was written instead of taking the failure for a refusal; the slot is offered again, and a
// retry with the same Idempotency-Key does not answer 201 for a hold that holds nothing.
func TestHoldFailingAfterCommitLeaksNothing(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	p.withFaultyHold(faultyHold{fail: true})
	patientID, token := p.patient("lost@example.com", "+15550401001")
	start := tomorrowAt(9, 0)
	body := map[string]any{"provider_id": p.provider.ID, "service_id": p.service.ID, "start": start.Format(time.RFC3339)}

	resp, raw := p.jsonCall("POST", "/v1/bookings", token, body)
	requireProblem(t, resp, raw, http.StatusServiceUnavailable)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		bs := p.patientBookings(patientID)
		if assert.Len(c, bs, 1, "the insert committed") {
			assert.Equal(c, domain.StatusExpired, bs[0].Status)
		}
	}, 20*time.Second, 100*time.Millisecond)
	require.True(t, p.slotOffered(start), "the slot is free again")

	status, raw2 := p.raw("POST", "/v1/bookings", token, body, "Idempotency-Key", "lost-1")
	require.Equal(t, http.StatusServiceUnavailable, status, "%s", raw2)
	var second domain.Booking
	for _, b := range p.patientBookings(patientID) {
		if b.ID != "" && b.CreatedAt.After(second.CreatedAt) {
			second = b
		}
	}
	ctx := context.Background()
	require.NoError(t, p.temporal.GetWorkflow(ctx, workflows.BookingWorkflowID(second.ID), "").Get(ctx, nil))
	status, raw2 = p.raw("POST", "/v1/bookings", token, body, "Idempotency-Key", "lost-1")
	require.Equal(t, http.StatusConflict, status, "a retry is not told the lapsed hold is held: %s", raw2)
}

// Point 3: an admin cancels the booking's workflow while its hold is still being written. The
// workflow waits for the hold to finish, then compensates: nothing is left held.
func TestCancellingTheWorkflowDuringTheHold(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	p.withFaultyHold(faultyHold{delay: 2 * time.Second})
	patientID, token := p.patient("midhold@example.com", "+15550402001")
	start := tomorrowAt(10, 0)

	answered := make(chan struct{})
	go func() {
		defer close(answered)
		body, _ := json.Marshal(map[string]any{"provider_id": p.provider.ID, "service_id": p.service.ID, "start": start.Format(time.RFC3339)})
		req, _ := http.NewRequest("POST", p.url+"/v1/bookings", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	var id string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		bs := p.patientBookings(patientID)
		if assert.Len(c, bs, 1) {
			id = bs[0].ID
		}
	}, 10*time.Second, 20*time.Millisecond, "the hold's insert committed")
	require.NoError(t, p.temporal.CancelWorkflow(context.Background(), workflows.BookingWorkflowID(id), ""))
	<-answered

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		b, err := p.st.GetBooking(context.Background(), id)
		require.NoError(c, err)
		assert.Equal(c, domain.StatusCancelled, b.Status)
	}, 20*time.Second, 100*time.Millisecond)
	require.True(t, p.slotOffered(start))
	// The workflow closes once the cancellation notices are out, and it does not fail.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		desc, err := p.temporal.DescribeWorkflowExecution(context.Background(), workflows.BookingWorkflowID(id), "")
		require.NoError(c, err)
		assert.NotEqual(c, enums.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.WorkflowExecutionInfo.Status)
	}, 20*time.Second, 100*time.Millisecond)
	desc, err := p.temporal.DescribeWorkflowExecution(context.Background(), workflows.BookingWorkflowID(id), "")
	require.NoError(t, err)
	require.NotEqual(t, enums.WORKFLOW_EXECUTION_STATUS_FAILED, desc.WorkflowExecutionInfo.Status)
}

// Point 2: the database moves before the workflow (here a confirm that committed while the
// workflow never heard of it). When the hold's expiry finds the booking confirmed, the
// workflow carries on as confirmed instead of failing, and commands still work.
func TestWorkflowFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	patientID, token := p.patient("ahead@example.com", "+15550403001")
	ctx := context.Background()
	id := uuid.NewString()
	require.NoError(t, p.hold(ctx, workflows.Input{BookingID: id, ProviderID: p.provider.ID, ServiceID: p.service.ID,
		PatientID: patientID, Start: tomorrowAt(11, 0), Policy: p.policy(2 * time.Second)}))
	_, err := p.st.ChangeStatus(ctx, store.StatusChange{BookingID: id, From: []domain.Status{domain.StatusHeld}, To: domain.StatusConfirmed})
	require.NoError(t, err)

	// The expiry has fired and met the confirmed row; the workflow caught up.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		desc, err := p.temporal.DescribeWorkflowExecution(ctx, workflows.BookingWorkflowID(id), "")
		require.NoError(c, err)
		assert.Equal(c, enums.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.WorkflowExecutionInfo.Status)
		var status string
		if f := desc.WorkflowExecutionInfo.SearchAttributes.GetIndexedFields()["BookingStatus"]; f != nil {
			_ = json.Unmarshal(f.GetData(), &status)
		}
		assert.Equal(c, "confirmed", status)
	}, 20*time.Second, 200*time.Millisecond)
	// It sent the confirmation it had missed, once.
	p.waitForMessages("+15550403001", "ahead@example.com", 1, 1)

	var b bookingBody
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+id+"/cancel", token, nil, &b))
	require.Equal(t, "cancelled", b.Status)
	require.NoError(t, p.temporal.GetWorkflow(ctx, workflows.BookingWorkflowID(id), "").Get(ctx, nil), "the workflow ends well")
}

// Point 5: every timer a booking's workflow starts either fires or is cancelled: a wait that a
// handler cut short calls its timer off instead of leaving it running.
func TestTimersDoNotPileUp(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	_, token := p.patient("timers@example.com", "+15550404001")
	id := p.bookConfirmed(token, tomorrowAt(12, 0))
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+id+"/cancel", token, nil, nil))
	ctx := context.Background()
	require.NoError(t, p.temporal.GetWorkflow(ctx, workflows.BookingWorkflowID(id), "").Get(ctx, nil))

	started, ended := 0, 0
	for _, e := range p.history(ctx, workflows.BookingWorkflowID(id)).Events {
		switch e.GetEventType() {
		case enums.EVENT_TYPE_TIMER_STARTED:
			started++
		case enums.EVENT_TYPE_TIMER_FIRED, enums.EVENT_TYPE_TIMER_CANCELED:
			ended++
		}
	}
	require.Positive(t, started)
	require.Equal(t, started, ended, "timers left running when the workflow closed")
}
