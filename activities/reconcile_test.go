package activities_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/activities"
	"github.com/clinicbook/booking/activities/contract"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
)

// fakeRuns stands in for Temporal: the bookings whose workflow runs, those it cannot answer
// about, and the resumes asked for.
type fakeRuns struct {
	mu      sync.Mutex
	running map[string]bool
	broken  map[string]bool
	resumed []string
}

func (f *fakeRuns) Running(ctx context.Context, id string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken[id] {
		return false, errors.New("temporal unavailable")
	}
	return f.running[id], nil
}

func (f *fakeRuns) Resume(ctx context.Context, b domain.Booking) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resumed = append(f.resumed, b.ID)
	f.running[b.ID] = true
	return true, nil
}

func reconcileFixture(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	s := store.New(storetest.New(t))
	_, err := s.CreateUser(ctx, domain.User{ID: "pat-1", Email: "ann@example.com", PasswordHash: "x", Name: "Ann", Role: domain.RolePatient})
	require.NoError(t, err)
	require.NoError(t, s.CreateProvider(ctx, domain.Provider{ID: "prov-1", Name: "Dr One", TimeZone: "Europe/Berlin"}))
	require.NoError(t, s.CreateService(ctx, domain.Service{ID: "svc-30", Name: "Consultation", DurationMinutes: 30}))
	return s
}

func holdAt(t *testing.T, s *store.Store, id string, start, exp time.Time) {
	t.Helper()
	_, err := s.CreateHold(context.Background(), domain.Booking{ID: id, ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "pat-1",
		Start: start, End: start.Add(30 * time.Minute), HoldExpiresAt: &exp}, 0, store.EventInput{Key: "status:held", Type: "status"})
	require.NoError(t, err)
}

func confirmedAt(t *testing.T, s *store.Store, id string, start time.Time) {
	t.Helper()
	holdAt(t, s, id, start, time.Now().Add(time.Hour))
	_, err := s.ChangeStatus(context.Background(), store.StatusChange{BookingID: id, From: []domain.Status{domain.StatusHeld}, To: domain.StatusConfirmed})
	require.NoError(t, err)
}

func status(t *testing.T, s *store.Store, id string) domain.Status {
	t.Helper()
	b, err := s.GetBooking(context.Background(), id)
	require.NoError(t, err)
	return b.Status
}

func TestReconcilerExpiresOnlyHoldsWhoseWorkflowIsGone(t *testing.T) {
	ctx := context.Background()
	s := reconcileFixture(t)
	now := time.Now()
	start := now.Add(48 * time.Hour).Truncate(time.Hour)
	holdAt(t, s, "gone", start, now.Add(-5*time.Minute))
	holdAt(t, s, "running", start.Add(time.Hour), now.Add(-4*time.Minute))
	holdAt(t, s, "unknown", start.Add(2*time.Hour), now.Add(-3*time.Minute))
	holdAt(t, s, "in-grace", start.Add(3*time.Hour), now.Add(-10*time.Second))
	runs := &fakeRuns{running: map[string]bool{"running": true}, broken: map[string]bool{"unknown": true}}
	reg := prometheus.NewRegistry()
	m, err := activities.NewReconcileMetrics(reg)
	require.NoError(t, err)
	r := &activities.Reconciler{Store: s, Runs: runs, Metrics: m}

	got, err := r.ExpireLapsedHolds(ctx, contract.ReconcilePage{Now: now, Grace: 30 * time.Second, Limit: 3})
	require.NoError(t, err)
	require.Equal(t, 3, got.Checked)
	require.Equal(t, 1, got.Repaired)
	require.Equal(t, 1, got.Failed)
	require.NotNil(t, got.Next, "a full page has a next one")
	require.Equal(t, domain.StatusExpired, status(t, s, "gone"))
	require.Equal(t, domain.StatusHeld, status(t, s, "running"))
	require.Equal(t, domain.StatusHeld, status(t, s, "unknown"))
	require.Equal(t, domain.StatusHeld, status(t, s, "in-grace"))

	// The next page is empty: the hold still in its grace is not listed.
	got, err = r.ExpireLapsedHolds(ctx, contract.ReconcilePage{Now: now, Grace: 30 * time.Second, After: got.Next, Limit: 3})
	require.NoError(t, err)
	require.Equal(t, contract.ReconcilePageResult{}, got)

	// Run again: nothing more to do, and the counts do not grow but for what was checked.
	got, err = r.ExpireLapsedHolds(ctx, contract.ReconcilePage{Now: now, Grace: 30 * time.Second, Limit: 3})
	require.NoError(t, err)
	require.Equal(t, 0, got.Repaired)
	require.Equal(t, map[string]float64{"booking_reconciler_checked_total": 5, "booking_reconciler_expired_total": 1,
		"booking_reconciler_resumed_total": 0, "booking_reconciler_errors_total": 2}, gather(t, reg))
}

func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			out[f.GetName()] += m.GetCounter().GetValue()
		}
	}
	return out
}

func TestReconcilerResumesOnlyLiveBookingsWhoseWorkflowIsGone(t *testing.T) {
	ctx := context.Background()
	s := reconcileFixture(t)
	now := time.Now()
	start := now.Add(48 * time.Hour).Truncate(time.Hour)
	confirmedAt(t, s, "gone", start)
	confirmedAt(t, s, "running", start.Add(time.Hour))
	confirmedAt(t, s, "cancelled", start.Add(2*time.Hour))
	_, err := s.ChangeStatus(ctx, store.StatusChange{BookingID: "cancelled", From: []domain.Status{domain.StatusConfirmed}, To: domain.StatusCancelled})
	require.NoError(t, err)
	holdAt(t, s, "held", start.Add(3*time.Hour), now.Add(time.Hour))
	runs := &fakeRuns{running: map[string]bool{"running": true}}
	r := &activities.Reconciler{Store: s, Runs: runs}

	got, err := r.ResumeLiveBookings(ctx, contract.ReconcilePage{Now: now, Limit: 200})
	require.NoError(t, err)
	require.Equal(t, contract.ReconcilePageResult{Checked: 2, Repaired: 1}, got)
	require.Equal(t, []string{"gone"}, runs.resumed)

	// Once it runs again, the next pass leaves it alone.
	got, err = r.ResumeLiveBookings(ctx, contract.ReconcilePage{Now: now, Limit: 200})
	require.NoError(t, err)
	require.Equal(t, contract.ReconcilePageResult{Checked: 2}, got)
	require.Equal(t, []string{"gone"}, runs.resumed)
}

// A booking the page lists as live but that ended by the time it is checked (cancelled after
// the page was read, its workflow closing) is not resumed. The database cannot hold both
// answers at once, hence the in-memory store.
func TestReconcilerRereadsABookingBeforeResumingIt(t *testing.T) {
	st := newMemStore()
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	for i, id := range []string{"gone", "ended-since", "running"} {
		b := domain.Booking{ID: id, Start: start.Add(time.Duration(i) * time.Hour), Status: domain.StatusConfirmed}
		b.End = b.Start.Add(30 * time.Minute)
		st.live = append(st.live, b)
		st.bookings[id] = b
	}
	ended := st.bookings["ended-since"]
	ended.Status = domain.StatusCancelled
	st.bookings["ended-since"] = ended
	runs := &fakeRuns{running: map[string]bool{"running": true}}
	r := &activities.Reconciler{Store: st, Runs: runs}

	got, err := r.ResumeLiveBookings(context.Background(), contract.ReconcilePage{Now: time.Now(), Limit: 3})
	require.NoError(t, err)
	require.Equal(t, 3, got.Checked)
	require.Equal(t, 1, got.Repaired)
	require.Zero(t, got.Failed)
	require.Equal(t, []string{"gone"}, runs.resumed)
	require.Equal(t, &contract.ReconcileCursor{At: st.live[2].End, ID: "running"}, got.Next, "a full page has a next one")
}
