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

	"github.com/clinicbook/booking/domain"
	bookingworker "github.com/clinicbook/booking/worker"
	"github.com/clinicbook/booking/workflows"
)

// -record-histories writes the histories this test produces to workflows/testdata/histories,
// where the workflow package replays them on every test run. Record again only when the
// workflow's behaviour changed on purpose (behind workflow.GetVersion), keeping old files.
var recordHistories = flag.Bool("record-histories", false, "write the recorded histories to workflows/testdata/histories")

// TestHistoriesReplay runs real bookings through the dev server, then replays each history
// against the workflow code: what a new worker does with a booking already in flight.
func TestHistoriesReplay(t *testing.T) {
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

	// Let the cancellation notices finish so the recorded history closes.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		d, err := p.temporal.DescribeWorkflowExecution(ctx, workflows.BookingWorkflowID(cancelled), "")
		require.NoError(c, err)
		assert.Equal(c, enums.WORKFLOW_EXECUTION_STATUS_COMPLETED, d.WorkflowExecutionInfo.Status)
	}, 20*time.Second, 100*time.Millisecond)

	names := map[string]string{cancelled: "confirmed-cancelled", moved: "confirmed-rescheduled", refused: "hold-refused", expired: "hold-expired"}
	for id, name := range names {
		h := p.history(ctx, workflows.BookingWorkflowID(id))
		r := worker.NewWorkflowReplayer()
		bookingworker.RegisterWorkflow(r)
		require.NoError(t, r.ReplayWorkflowHistory(nil, h), name)
		if *recordHistories {
			b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
			require.NoError(t, err)
			path := filepath.Join("..", "workflows", "testdata", "histories", name+".json")
			require.NoError(t, os.WriteFile(path, b, 0o644))
			t.Logf("recorded %s", path)
		}
	}
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
