package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/clinicbook/booking/codec"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	bookingworker "github.com/clinicbook/booking/worker"
	"github.com/clinicbook/booking/workflows"
)

// -record-histories writes the histories this test produces to workflows/testdata/histories,
// named by the day they were recorded (`make histories` does it), where the workflow package
// replays them on every test run. Record again when the workflow changed on purpose (behind
// workflow.GetVersion); the older files stay, so the bookings they stand for keep replaying.
// The platform here encrypts with the test key (internal/temporaltest), so the recorded
// histories are encrypted as production ones are, and replay with that key.
var recordHistories = flag.Bool("record-histories", false, "write the recorded histories to workflows/testdata/histories")

// TestHistoriesReplay runs real bookings through the dev server, then replays each history
// against the workflow code: what a new worker does with a booking already in flight.
func TestHistoriesReplay(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	patientID, token := p.patient("replay@example.com", "+15550005555")
	ctx := context.Background()

	book := func(start time.Time) string {
		var b bookingBody
		require.Equal(t, 201, p.do("POST", "/v1/bookings", token, map[string]any{
			"provider_id": p.provider.ID, "service_id": p.service.ID, "start": start.Format(time.RFC3339)}, &b))
		return b.ID
	}

	// Confirmed, then cancelled: hold, confirm, reminders, compensation, notifications.
	cancelled := book(tomorrowAt(8, 0))
	require.Equal(t, 200, p.do("POST", "/v1/bookings/"+cancelled+"/confirm", token, nil, nil))
	require.Equal(t, 200, p.do("POST", "/v1/bookings/"+cancelled+"/cancel", token, map[string]any{"reason": "replay"}, nil))

	// Confirmed, rescheduled, still running.
	moved := book(tomorrowAt(12, 0))
	require.Equal(t, 200, p.do("POST", "/v1/bookings/"+moved+"/confirm", token, nil, nil))
	require.Equal(t, 200, p.do("POST", "/v1/bookings/"+moved+"/reschedule", token, map[string]any{"start": tomorrowAt(13, 0).Format(time.RFC3339)}, nil))

	// Refused: the slot is taken.
	rebooked := uuid.NewString()
	err := p.hold(ctx, workflows.Input{BookingID: rebooked, ProviderID: p.provider.ID, ServiceID: p.service.ID,
		PatientID: patientID, Start: tomorrowAt(8, 0).Add(0), Policy: p.policy(time.Minute)})
	require.NoError(t, err, "the cancelled booking's slot is free again")
	refused := uuid.NewString()
	require.Error(t, p.hold(ctx, workflows.Input{BookingID: refused, ProviderID: p.provider.ID, ServiceID: p.service.ID,
		PatientID: patientID, Start: tomorrowAt(8, 0), Policy: p.policy(time.Minute)}))

	// Expired: a hold of one second, started directly with that policy.
	expired := uuid.NewString()
	require.NoError(t, p.hold(ctx, workflows.Input{BookingID: expired, ProviderID: p.provider.ID, ServiceID: p.service.ID,
		PatientID: patientID, Start: tomorrowAt(15, 0), Policy: p.policy(time.Second)}))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		b, err := p.st.GetBooking(ctx, expired)
		require.NoError(c, err)
		assert.Equal(c, domain.StatusExpired, b.Status)
	}, 20*time.Second, 100*time.Millisecond)

	// Cancelled by an admin in the Web UI (the workflow itself): compensation.
	adminCancelled := p.bookConfirmed(token, tomorrowAt(16, 0))
	require.NoError(t, p.temporal.CancelWorkflow(ctx, workflows.BookingWorkflowID(adminCancelled), ""))

	// Resumed (as the reconciler does) with a booking due in seconds: a reminder fires, the
	// patient does not come, no-show.
	noShow := p.insertConfirmed(patientID, time.Now().Add(4*time.Second), 2*time.Second)
	pol := p.policy(time.Minute)
	pol.ReminderOffsets, pol.NoShowGrace = []time.Duration{2 * time.Second}, time.Second
	p.resume(ctx, noShow, pol)

	// Resumed, checked in, completed at the end.
	visit := p.insertConfirmed(patientID, time.Now().Add(8*time.Second), 5*time.Second)
	p.resume(ctx, visit, p.policy(time.Minute))
	admin := p.adminLogin("replay-admin@example.com")
	require.Equal(t, 200, p.do("POST", "/v1/bookings/"+visit+"/check-in", admin, nil, nil))

	// A hold that failed after its insert committed: expired, nothing leaks.
	failed := uuid.NewString()
	failQueue := p.faultyWorker(faultyHold{fail: true})
	_, err = p.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.BookingWorkflowID(failed), TaskQueue: failQueue},
		workflows.WorkflowName, workflows.Input{BookingID: failed, ProviderID: p.provider.ID, ServiceID: p.service.ID,
			PatientID: patientID, Start: tomorrowAt(17, 0), Policy: p.policy(time.Minute)})
	require.NoError(t, err)
	h, err := p.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.BookingWorkflowID(failed),
		UpdateName: workflows.UpdateHold, WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	require.Error(t, h.Get(ctx, nil))

	// Let every recorded workflow close (the rescheduled one runs on) so its history is whole.
	for _, id := range []string{cancelled, adminCancelled, noShow, visit, failed, expired, refused} {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			d, err := p.temporal.DescribeWorkflowExecution(ctx, workflows.BookingWorkflowID(id), "")
			require.NoError(c, err)
			assert.Equal(c, enums.WORKFLOW_EXECUTION_STATUS_COMPLETED, d.WorkflowExecutionInfo.Status)
		}, 30*time.Second, 100*time.Millisecond, id)
	}
	for id, want := range map[string]domain.Status{adminCancelled: domain.StatusCancelled, noShow: domain.StatusNoShow,
		visit: domain.StatusCompleted, failed: domain.StatusExpired} {
		b, err := p.st.GetBooking(ctx, id)
		require.NoError(t, err)
		require.Equal(t, want, b.Status, id)
	}

	names := map[string]string{cancelled: "confirmed-cancelled", moved: "confirmed-rescheduled", refused: "hold-refused",
		expired: "hold-expired", adminCancelled: "workflow-cancelled", noShow: "resumed-reminded-no-show",
		visit: "resumed-checked-in-completed", failed: "hold-failed"}
	day := time.Now().UTC().Format("20060102")
	for id, name := range names {
		h := p.history(ctx, workflows.BookingWorkflowID(id))
		r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: codec.DataConverter(p.codec),
			FailureConverter: codec.FailureConverter(p.codec)})
		require.NoError(t, err)
		bookingworker.RegisterWorkflow(r)
		require.NoError(t, r.ReplayWorkflowHistory(nil, h), name)
		if *recordHistories {
			b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
			require.NoError(t, err)
			path := filepath.Join("..", "workflows", "testdata", "histories", day+"-"+name+".json")
			require.NoError(t, os.WriteFile(path, b, 0o644))
			t.Logf("recorded %s", path)
		}
	}
}

// insertConfirmed writes a confirmed booking straight into the database, of any length and as
// soon as wanted (no slot grid, no workflow): what a resumed run finds.
func (p *platform) insertConfirmed(patientID string, start time.Time, length time.Duration) string {
	p.t.Helper()
	ctx := context.Background()
	id := uuid.NewString()
	exp := time.Now().Add(time.Minute)
	_, err := p.st.CreateHold(ctx, domain.Booking{ID: id, ProviderID: p.provider.ID, ServiceID: p.service.ID, PatientID: patientID,
		Start: start.Truncate(time.Second), End: start.Truncate(time.Second).Add(length), HoldExpiresAt: &exp}, 0, store.EventInput{})
	require.NoError(p.t, err)
	_, err = p.st.ChangeStatus(ctx, store.StatusChange{BookingID: id, From: []domain.Status{domain.StatusHeld}, To: domain.StatusConfirmed})
	require.NoError(p.t, err)
	return id
}

// resume starts a run for an existing booking, as the reconciler does.
func (p *platform) resume(ctx context.Context, id string, pol workflows.Policy) {
	p.t.Helper()
	b, err := p.st.GetBooking(ctx, id)
	require.NoError(p.t, err)
	_, err = p.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.BookingWorkflowID(id), TaskQueue: p.cfg.Temporal.TaskQueue},
		workflows.WorkflowName, workflows.Input{BookingID: id, ProviderID: b.ProviderID, ServiceID: b.ServiceID,
			PatientID: b.PatientID, Start: b.Start, Policy: pol, Resume: true})
	require.NoError(p.t, err)
}

// policy is the platform's policy with another hold time.
func (p *platform) policy(holdTTL time.Duration) workflows.Policy {
	return workflows.Policy{HoldTTL: holdTTL, ReminderOffsets: p.cfg.ReminderOffsets, NoShowGrace: p.cfg.NoShowGrace,
		LateCancelWindow: p.cfg.LateCancelWindow, CheckInEarly: time.Hour, HoldRequestWait: time.Minute}
}

// hold starts a booking's workflow directly and asks for the hold, as the API does.
func (p *platform) hold(ctx context.Context, in workflows.Input) error {
	run, err := p.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.BookingWorkflowID(in.BookingID), TaskQueue: p.cfg.Temporal.TaskQueue,
	}, workflows.WorkflowName, in)
	if err != nil {
		return err
	}
	h, err := p.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: run.GetID(), RunID: run.GetRunID(), UpdateName: workflows.UpdateHold,
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	var b domain.Booking
	return h.Get(ctx, &b)
}

func (p *platform) history(ctx context.Context, workflowID string) *historypb.History {
	p.t.Helper()
	iter := p.temporal.GetWorkflowHistory(ctx, workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for iter.HasNext() {
		e, err := iter.Next()
		require.NoError(p.t, err)
		h.Events = append(h.Events, e)
	}
	require.NotEmpty(p.t, h.Events, fmt.Sprintf("history of %s", workflowID))
	return h
}
