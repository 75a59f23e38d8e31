package e2e

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/workflows"
)

// BenchmarkHold measures the hot path, the POST that holds a slot, against two baselines
// measured in the same run on the same dev server (scripts/bench.sh prints the ratios):
//
//   - api: POST /v1/bookings over HTTP, as shipped: the API process hosts a worker, starts the
//     workflow eagerly (its first task comes back with the start) and sends the hold update.
//   - update-with-start: the same hold as one Update-with-Start call, no eager start.
//   - start-then-update: a plain start through the task queue, then the update.
//
// Each iteration books a new slot; the database and the workflow do the full hold.
func BenchmarkHold(b *testing.B) {
	p := newPlatform(b)
	patientID, token := p.patient("bench@example.com", "+15550006666")
	base := tomorrowAt(0, 0)
	var n atomic.Int64
	nextSlot := func() time.Time { return base.Add(time.Duration(n.Add(1)) * 30 * time.Minute) }
	input := func() workflows.Input {
		return workflows.Input{BookingID: uuid.NewString(), ProviderID: p.provider.ID, ServiceID: p.service.ID,
			PatientID: patientID, Start: nextSlot(), Policy: p.policy(10 * time.Minute)}
	}
	ctx := context.Background()

	b.Run("api", func(b *testing.B) {
		for b.Loop() {
			status, body := p.raw("POST", "/v1/bookings", token, map[string]any{
				"provider_id": p.provider.ID, "service_id": p.service.ID, "start": nextSlot().Format(time.RFC3339)})
			if status != 201 {
				b.Fatalf("POST /v1/bookings: %d %s", status, body)
			}
		}
	})

	b.Run("update-with-start", func(b *testing.B) {
		for b.Loop() {
			in := input()
			op := p.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
				ID: workflows.BookingWorkflowID(in.BookingID), TaskQueue: p.cfg.Temporal.TaskQueue,
				WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			}, workflows.WorkflowName, in)
			h, err := p.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
				StartWorkflowOperation: op,
				UpdateOptions: client.UpdateWorkflowOptions{UpdateName: workflows.UpdateHold, UpdateID: workflows.HoldUpdateID,
					WaitForStage: client.WorkflowUpdateStageCompleted},
			})
			var bk domain.Booking
			if err == nil {
				err = h.Get(ctx, &bk)
			}
			if err != nil || bk.Status != domain.StatusHeld {
				b.Fatalf("update-with-start: %v %+v", err, bk)
			}
		}
	})

	b.Run("start-then-update", func(b *testing.B) {
		for b.Loop() {
			if err := p.hold(ctx, input()); err != nil {
				b.Fatalf("start-then-update: %v", err)
			}
		}
	})
}
