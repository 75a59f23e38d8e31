package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
)

// hold inserts a held booking of prov-1 for pat-1 whose hold expires at exp.
func hold(t *testing.T, s *store.Store, id string, start, exp time.Time) {
	t.Helper()
	_, err := s.CreateHold(context.Background(), domain.Booking{ID: id, ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "pat-1",
		Start: start, End: start.Add(30 * time.Minute), HoldExpiresAt: &exp}, 0, store.EventInput{Key: "status:held", Type: "status"})
	require.NoError(t, err)
}

func status(t *testing.T, s *store.Store, id string) domain.Status {
	t.Helper()
	b, err := s.GetBooking(context.Background(), id)
	require.NoError(t, err)
	return b.Status
}

// A hold past its expiry stops blocking its slot as soon as somebody else wants it, whether or
// not its workflow (or the reconciler) has caught up; a live hold still blocks.
func TestReconcileCreateHoldExpiresLapsedOverlaps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.New(t)
	s := fixture(t, pool)
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)

	hold(t, s, "stale", start, time.Now().Add(-time.Minute))
	hold(t, s, "live", start.Add(2*time.Hour), time.Now().Add(10*time.Minute))

	// The live hold keeps its slot.
	exp := time.Now().Add(10 * time.Minute)
	_, err := s.CreateHold(ctx, domain.Booking{ID: "b-live", ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "pat-1",
		Start: start.Add(2*time.Hour + 15*time.Minute), End: start.Add(2*time.Hour + 45*time.Minute), HoldExpiresAt: &exp}, 0, store.EventInput{})
	require.True(t, store.IsSlotTaken(err), "got %v", err)
	require.Equal(t, domain.StatusHeld, status(t, s, "live"))

	// The lapsed one gives its slot up to an overlapping hold, with a line in its timeline.
	_, err = s.CreateHold(ctx, domain.Booking{ID: "b-new", ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "pat-1",
		Start: start.Add(15 * time.Minute), End: start.Add(45 * time.Minute), HoldExpiresAt: &exp}, 0, store.EventInput{})
	require.NoError(t, err)
	b, err := s.GetBooking(ctx, "stale")
	require.NoError(t, err)
	require.Equal(t, domain.StatusExpired, b.Status)
	require.Nil(t, b.HoldExpiresAt)
	events, err := s.ListEvents(ctx, "stale")
	require.NoError(t, err)
	require.Len(t, events, 2)
	require.Equal(t, "expired", events[1].Detail["status"])
	require.Contains(t, events[1].Detail["reason"], "lapsed")
}

// A hold only just past its expiry still blocks: the workflow may have accepted a confirm
// that is on its way to the database.
func TestReconcileCreateHoldSparesAJustLapsedHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.New(t)
	s := fixture(t, pool)
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	hold(t, s, "just", start, time.Now().Add(-time.Second))

	exp := time.Now().Add(10 * time.Minute)
	_, err := s.CreateHold(ctx, domain.Booking{ID: "b-new", ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "pat-1",
		Start: start, End: start.Add(30 * time.Minute), HoldExpiresAt: &exp}, 0, store.EventInput{})
	require.True(t, store.IsSlotTaken(err), "got %v", err)
	require.Equal(t, domain.StatusHeld, status(t, s, "just"))

	// A retried hold of a lapsed booking finds its own row instead of expiring it.
	again, err := s.CreateHold(ctx, domain.Booking{ID: "just", ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "pat-1",
		Start: start, End: start.Add(30 * time.Minute), HoldExpiresAt: &exp}, 0, store.EventInput{})
	require.NoError(t, err)
	require.Equal(t, domain.StatusHeld, again.Status)
}

func TestReconcileListsLapsedHoldsInPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.New(t)
	s := fixture(t, pool)
	now := time.Now()
	start := now.Add(48 * time.Hour).Truncate(time.Hour)
	for i, id := range []string{"h1", "h2", "h3"} {
		hold(t, s, id, start.Add(time.Duration(i)*time.Hour), now.Add(-time.Duration(10-i)*time.Minute))
	}
	hold(t, s, "fresh", start.Add(5*time.Hour), now.Add(time.Minute))
	setStatus(t, pool, "h3-confirmed", "confirmed", start.Add(6*time.Hour))

	page, err := s.LapsedHolds(ctx, now, store.Cursor{}, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"h1", "h2"}, ids(page))
	last := page[len(page)-1]
	page, err = s.LapsedHolds(ctx, now, store.Cursor{At: *last.HoldExpiresAt, ID: last.ID}, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"h3"}, ids(page))

	// The grace: a cutoff before h3's expiry leaves it out.
	page, err = s.LapsedHolds(ctx, now.Add(-8*time.Minute-30*time.Second), store.Cursor{}, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"h1", "h2"}, ids(page))
}

func TestReconcileExpireLapsedHoldIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.New(t)
	s := fixture(t, pool)
	now := time.Now()
	start := now.Add(48 * time.Hour).Truncate(time.Hour)
	hold(t, s, "h1", start, now.Add(-time.Minute))
	hold(t, s, "h2", start.Add(time.Hour), now.Add(time.Minute))

	changed, err := s.ExpireLapsedHold(ctx, "h1", now, "reconciler", "expired by the reconciler")
	require.NoError(t, err)
	require.True(t, changed)
	changed, err = s.ExpireLapsedHold(ctx, "h1", now, "reconciler", "expired by the reconciler")
	require.NoError(t, err)
	require.False(t, changed)
	require.Equal(t, domain.StatusExpired, status(t, s, "h1"))
	events, err := s.ListEvents(ctx, "h1")
	require.NoError(t, err)
	require.Len(t, events, 2)
	require.Equal(t, "reconciler", events[1].Detail["by"])
	require.Equal(t, "expired by the reconciler", events[1].Detail["reason"])

	// A hold that has not lapsed by the cutoff, or one confirmed meanwhile, is left alone.
	changed, err = s.ExpireLapsedHold(ctx, "h2", now, "reconciler", "x")
	require.NoError(t, err)
	require.False(t, changed)
	_, err = s.ChangeStatus(ctx, store.StatusChange{BookingID: "h2", From: []domain.Status{domain.StatusHeld}, To: domain.StatusConfirmed})
	require.NoError(t, err)
	changed, err = s.ExpireLapsedHold(ctx, "h2", now.Add(time.Hour), "reconciler", "x")
	require.NoError(t, err)
	require.False(t, changed)
	require.Equal(t, domain.StatusConfirmed, status(t, s, "h2"))

	// The slot is free again.
	exp := now.Add(10 * time.Minute)
	_, err = s.CreateHold(ctx, domain.Booking{ID: "h3", ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "pat-1",
		Start: start, End: start.Add(30 * time.Minute), HoldExpiresAt: &exp}, 0, store.EventInput{})
	require.NoError(t, err)
}

func TestReconcileListsLiveBookingsInPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.New(t)
	s := fixture(t, pool)
	now := time.Now()
	base := now.Truncate(time.Hour)
	setStatus(t, pool, "past", "confirmed", base.Add(-2*time.Hour))
	setStatus(t, pool, "under-way", "checked_in", now.Add(-10*time.Minute))
	setStatus(t, pool, "c1", "confirmed", base.Add(24*time.Hour))
	setStatus(t, pool, "c2", "confirmed", base.Add(25*time.Hour))
	setStatus(t, pool, "cancelled", "cancelled", base.Add(26*time.Hour))
	hold(t, s, "held", base.Add(27*time.Hour), now.Add(time.Minute))

	page, err := s.LiveBookings(ctx, now, store.Cursor{}, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"under-way", "c1"}, ids(page))
	last := page[len(page)-1]
	page, err = s.LiveBookings(ctx, now, store.Cursor{At: last.End, ID: last.ID}, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"c2"}, ids(page))
}

// Both listings read their partial indexes rather than the table.
func TestReconcileQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.New(t)
	fixture(t, pool)
	_, err := pool.Exec(ctx, `SET enable_seqscan = off`)
	require.NoError(t, err)
	for query, index := range map[string]string{
		`SELECT id FROM bookings WHERE status = 'held' AND hold_expires_at < now() AND (hold_expires_at, id) > ('-infinity', '')
			ORDER BY hold_expires_at, id LIMIT 200`: "bookings_held_expiry",
		`SELECT id FROM bookings WHERE status IN ('confirmed', 'checked_in') AND end_at > now() AND (end_at, id) > ('-infinity', '')
			ORDER BY end_at, id LIMIT 200`: "bookings_live_end",
	} {
		var plan string
		require.NoError(t, pool.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+query).Scan(&plan))
		require.Contains(t, plan, `"Index Name": "`+index+`"`, query)
	}
}

// setStatus inserts a 30-minute booking of prov-1 in the given status.
func setStatus(t *testing.T, pool *pgxpool.Pool, id, st string, start time.Time) {
	t.Helper()
	require.NoError(t, insertBooking(context.Background(), pool, id, st, start, 30))
}

func ids(bs []domain.Booking) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.ID
	}
	return out
}
