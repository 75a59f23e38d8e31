package e2e

import (
	"context"
	"fmt"
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
	admin := p.adminLogin("bench-admin@example.com")
	ctx := context.Background()
	// Holds are capped per patient, so the holds are spread over many patients, made before
	// the clock runs.
	patients := make([]string, 400)
	for i := range patients {
		u, err := p.st.CreateUser(ctx, domain.User{ID: uuid.NewString(), Email: fmt.Sprintf("bench-%d@example.com", i),
			PasswordHash: "unused", Name: "Bench", Phone: "+15550006666", Role: domain.RolePatient})
		if err != nil {
			b.Fatal(err)
		}
		// Bookings need a verified contact; one phone can be verified by one account only.
		if err := p.st.MarkVerified(ctx, u.ID, domain.ChannelEmail, time.Now()); err != nil {
			b.Fatal(err)
		}
		patients[i] = u.ID
	}
	base := tomorrowAt(0, 0)
	var n atomic.Int64
	next := func() (time.Time, string) {
		i := n.Add(1)
		return base.Add(time.Duration(i) * 30 * time.Minute), patients[int(i)%len(patients)]
	}
	input := func() workflows.Input {
		start, patientID := next()
		return workflows.Input{BookingID: uuid.NewString(), ProviderID: p.provider.ID, ServiceID: p.service.ID,
			PatientID: patientID, Start: start, Policy: p.policy(10 * time.Minute)}
	}

	b.Run("api", func(b *testing.B) {
		for b.Loop() {
			start, patientID := next()
			status, body := p.raw("POST", "/v1/bookings", admin, map[string]any{"patient_id": patientID,
				"provider_id": p.provider.ID, "service_id": p.service.ID, "start": start.Format(time.RFC3339)})
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
