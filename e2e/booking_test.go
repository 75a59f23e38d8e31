package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/workflows"
)

type bookingBody struct {
	ID            string     `json:"id"`
	Status        string     `json:"status"`
	HoldExpiresAt *time.Time `json:"hold_expires_at"`
	Start         time.Time  `json:"start"`
	End           time.Time  `json:"end"`
	ProviderID    string     `json:"provider_id"`
	ServiceID     string     `json:"service_id"`
	PatientID     string     `json:"patient_id"`
	Revision      int        `json:"revision"`
	Events        []struct {
		Type   string         `json:"type"`
		Detail map[string]any `json:"detail"`
	} `json:"events"`
}

func TestBookConfirmAndReadTimeline(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	patientID, token := p.patient("ann@example.com", "+15550002222")

	// The availability route offers the slot we are about to book.
	start := tomorrowAt(10, 0)
	var avail struct {
		Slots []struct{ Start, End time.Time } `json:"slots"`
	}
	q := fmt.Sprintf("/v1/providers/%s/availability?service_id=%s&from=%s&to=%s", p.provider.ID, p.service.ID,
		start.Format(time.RFC3339), start.Add(2*time.Hour).Format(time.RFC3339))
	require.Equal(t, http.StatusOK, p.do("GET", q, "", nil, &avail))
	require.Len(t, avail.Slots, 4)
	require.True(t, avail.Slots[0].Start.Equal(start))

	var held bookingBody
	status := p.do("POST", "/v1/bookings", token, map[string]any{
		"provider_id": p.provider.ID, "service_id": p.service.ID, "start": start.Format(time.RFC3339), "notes": "first visit",
	}, &held)
	require.Equal(t, http.StatusCreated, status)
	require.Equal(t, "held", held.Status)
	require.Equal(t, patientID, held.PatientID)
	require.NotNil(t, held.HoldExpiresAt)
	require.WithinDuration(t, time.Now().Add(10*time.Minute), *held.HoldExpiresAt, time.Minute)
	require.True(t, held.End.Equal(start.Add(30*time.Minute)))

	// The hold is in place when 201 returns: the slot is gone from availability.
	require.Equal(t, http.StatusOK, p.do("GET", q, "", nil, &avail))
	require.Len(t, avail.Slots, 3)
	require.False(t, avail.Slots[0].Start.Equal(start))

	var confirmed bookingBody
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+held.ID+"/confirm", token, nil, &confirmed))
	require.Equal(t, "confirmed", confirmed.Status)

	// The timeline shows each status change, the reminders planned, and both confirmations
	// delivered (the SMS as the sandbox's status callback reported it).
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var b bookingBody
		require.Equal(c, http.StatusOK, p.do("GET", "/v1/bookings/"+held.ID, token, nil, &b))
		seen := map[string]bool{}
		for _, e := range b.Events {
			switch e.Type {
			case "status":
				seen["status:"+fmt.Sprint(e.Detail["status"])] = true
			case "notification":
				seen[fmt.Sprint(e.Detail["kind"], "/", e.Detail["channel"], "/", e.Detail["status"])] = true
			default:
				seen[e.Type+":"+fmt.Sprint(e.Detail["offset"])] = true
			}
		}
		for _, want := range []string{"status:held", "status:confirmed", "reminder_planned:2h",
			"confirmation/sms/delivered", "confirmation/email/sent"} {
			assert.True(c, seen[want], "timeline lacks %s: %v", want, seen)
		}
	}, 20*time.Second, 200*time.Millisecond)

	// An admin finds it in Temporal by its search attributes, as in the Web UI.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := p.temporal.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf(`BookingStatus="confirmed" AND ProviderId=%q`, p.provider.ID),
		})
		require.NoError(c, err)
		require.Len(c, resp.Executions, 1)
		assert.Equal(c, workflows.BookingWorkflowID(held.ID), resp.Executions[0].Execution.WorkflowId)
	}, 20*time.Second, 200*time.Millisecond)
}

func TestFiftyClientsRaceForOneSlot(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	_, token := p.patient("race@example.com", "+15550003333")
	start := tomorrowAt(11, 30).Format(time.RFC3339)

	const clients = 50
	statuses := make([]int, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _ = p.raw("POST", "/v1/bookings", token, map[string]any{
				"provider_id": p.provider.ID, "service_id": p.service.ID, "start": start,
			})
		}()
	}
	wg.Wait()

	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	require.Equal(t, map[int]int{http.StatusCreated: 1, http.StatusConflict: clients - 1}, counts)
	var n int
	require.NoError(t, p.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM bookings`).Scan(&n))
	require.Equal(t, 1, n)

	// Only the winner's workflow is still running: refused holds end their workflows.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := p.temporal.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{
			Query: fmt.Sprintf(`TaskQueue=%q AND ExecutionStatus="Running"`, p.cfg.Temporal.TaskQueue),
		})
		require.NoError(c, err)
		assert.EqualValues(c, 1, resp.Count)
	}, 20*time.Second, 250*time.Millisecond)
}

func TestIdempotencyKeyAndRefusals(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	_, token := p.patient("idem@example.com", "+15550004444")
	body := map[string]any{"provider_id": p.provider.ID, "service_id": p.service.ID, "start": tomorrowAt(9, 0).Format(time.RFC3339)}

	var first, again bookingBody
	require.Equal(t, http.StatusCreated, p.do("POST", "/v1/bookings", token, body, &first, "Idempotency-Key", "k-1"))
	require.Equal(t, http.StatusCreated, p.do("POST", "/v1/bookings", token, body, &again, "Idempotency-Key", "k-1"))
	require.Equal(t, first.ID, again.ID)

	// The same key with another body is refused; without a key the slot is taken.
	other := map[string]any{"provider_id": p.provider.ID, "service_id": p.service.ID, "start": tomorrowAt(9, 30).Format(time.RFC3339)}
	require.Equal(t, http.StatusUnprocessableEntity, p.do("POST", "/v1/bookings", token, other, nil, "Idempotency-Key", "k-1"))
	require.Equal(t, http.StatusConflict, p.do("POST", "/v1/bookings", token, body, nil))

	// A start that is not on the grid is not an offered slot.
	offGrid := map[string]any{"provider_id": p.provider.ID, "service_id": p.service.ID, "start": tomorrowAt(9, 10).Format(time.RFC3339)}
	var prob struct {
		Status int                      `json:"status"`
		Errors []struct{ Field string } `json:"errors"`
	}
	require.Equal(t, http.StatusUnprocessableEntity, p.do("POST", "/v1/bookings", token, offGrid, &prob))
	require.Equal(t, "start", prob.Errors[0].Field)

	var n int
	require.NoError(t, p.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM bookings`).Scan(&n))
	require.Equal(t, 1, n)

	// Cancel, then a second cancel and a confirm answer without changing anything.
	var cancelled bookingBody
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+first.ID+"/cancel", token, map[string]any{"reason": "plans changed"}, &cancelled))
	require.Equal(t, "cancelled", cancelled.Status)
	require.Equal(t, http.StatusConflict, p.do("POST", "/v1/bookings/"+first.ID+"/confirm", token, nil, nil))
	// A retried cancel (the first answer lost on the way) gets the cancelled booking.
	var again2 bookingBody
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+first.ID+"/cancel", token, nil, &again2))
	require.Equal(t, "cancelled", again2.Status)
}

// The eager path (HOLD_START=eager, what make dev uses on the dev server) holds, confirms and
// refuses a taken slot like the default Update-with-Start path the other tests take.
func TestEagerHoldPath(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, func(c *config.Config) { c.Temporal.HoldStart = config.HoldStartEager })
	_, token := p.patient("eager@example.com", "+15550601001")
	id := p.bookConfirmed(token, tomorrowAt(9, 0))
	var b bookingBody
	require.Equal(t, http.StatusOK, p.do("GET", "/v1/bookings/"+id, token, nil, &b))
	require.Equal(t, "confirmed", b.Status)

	_, other := p.patient("eager2@example.com", "+15550601002")
	status := p.do("POST", "/v1/bookings", other, map[string]any{
		"provider_id": p.provider.ID, "service_id": p.service.ID, "start": tomorrowAt(9, 0).Format(time.RFC3339)}, nil)
	require.Equal(t, http.StatusConflict, status)
}
