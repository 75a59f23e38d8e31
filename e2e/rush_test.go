package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/clinicbook/booking/workflows"
)

// workflowsOn counts the workflows ever started on the platform's task queue, once visibility
// has caught up with want (or gives what it sees after a while).
func (p *platform) workflowsOn(t *testing.T, want int64) int64 {
	t.Helper()
	var n int64
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := p.temporal.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{
			Query: fmt.Sprintf(`TaskQueue=%q`, p.cfg.Temporal.TaskQueue),
		})
		require.NoError(c, err)
		n = resp.Count
		assert.GreaterOrEqual(c, n, want)
	}, 20*time.Second, 200*time.Millisecond)
	return n
}

func TestRefuseTakenSlotWithoutWorkflow(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	_, first := p.patient("first@example.com", "+15550007001")
	secondID, second := p.patient("second@example.com", "+15550007002")
	body := map[string]any{"provider_id": p.provider.ID, "service_id": p.service.ID, "start": tomorrowAt(14, 0).Format(time.RFC3339)}

	require.Equal(t, http.StatusCreated, p.do("POST", "/v1/bookings", first, body, nil))
	require.EqualValues(t, 1, p.workflowsOn(t, 1))

	// The second patient is told at once, under a key (so that the workflow it would have
	// started has a known id) and without one; the answer is the race's own.
	var prob struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	require.Equal(t, http.StatusConflict, p.do("POST", "/v1/bookings", second, body, &prob, "Idempotency-Key", "rush-1"))
	require.Equal(t, "the slot is already taken", prob.Detail)
	require.Equal(t, http.StatusConflict, p.do("POST", "/v1/bookings", second, body, nil))
	// Asked again under the same key, the answer is the same.
	require.Equal(t, http.StatusConflict, p.do("POST", "/v1/bookings", second, body, nil, "Idempotency-Key", "rush-1"))

	// This mirrors how the API names a keyed request's booking (api/bookings.go).
	keyed := uuid.NewSHA1(uuid.MustParse("6f1c5a9e-2b1e-4c67-9a55-0c3b8f7d2e10"), []byte(secondID+"\x00rush-1")).String()
	_, err := p.temporal.DescribeWorkflowExecution(context.Background(), workflows.BookingWorkflowID(keyed), "")
	var notFound *serviceerror.NotFound
	require.ErrorAs(t, err, &notFound, "a refused request started a workflow")

	// A later booking's workflow shows up in visibility; the refusals' never did.
	require.Equal(t, http.StatusCreated, p.do("POST", "/v1/bookings", second, map[string]any{
		"provider_id": p.provider.ID, "service_id": p.service.ID, "start": tomorrowAt(15, 0).Format(time.RFC3339)}, nil))
	require.EqualValues(t, 2, p.workflowsOn(t, 2))

	// A start off the grid is refused before anything starts too.
	require.Equal(t, http.StatusUnprocessableEntity, p.do("POST", "/v1/bookings", second, map[string]any{
		"provider_id": p.provider.ID, "service_id": p.service.ID, "start": tomorrowAt(15, 10).Format(time.RFC3339)}, nil))
	require.Equal(t, http.StatusUnprocessableEntity, p.do("POST", "/v1/bookings", second, map[string]any{
		"provider_id": uuid.NewString(), "service_id": p.service.ID, "start": tomorrowAt(15, 0).Format(time.RFC3339)}, nil))
	require.EqualValues(t, 2, p.workflowsOn(t, 2))
}

func TestRushForThreeSlots(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	const patients = 100
	tokens := make([]string, patients)
	for i := range tokens {
		_, tokens[i] = p.patient(fmt.Sprintf("rush%03d@example.com", i), fmt.Sprintf("+1555008%04d", i))
	}
	starts := []string{tomorrowAt(9, 0).Format(time.RFC3339), tomorrowAt(9, 30).Format(time.RFC3339), tomorrowAt(10, 0).Format(time.RFC3339)}

	statuses := make([]int, patients)
	var wg sync.WaitGroup
	for i := range patients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _ = p.raw("POST", "/v1/bookings", tokens[i], map[string]any{
				"provider_id": p.provider.ID, "service_id": p.service.ID, "start": starts[i%len(starts)],
			})
		}()
	}
	wg.Wait()

	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	require.Equal(t, map[int]int{http.StatusCreated: 3, http.StatusConflict: patients - 3}, counts)
	var live int
	require.NoError(t, p.st.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM bookings WHERE status IN ('held', 'confirmed', 'checked_in')`).Scan(&live))
	require.Equal(t, 3, live)

	// Refusals start no workflow: the three holds' and hardly any more.
	n := p.workflowsOn(t, 3)
	require.LessOrEqual(t, n, int64(10), "workflows started for 100 requests and 3 slots")
}
