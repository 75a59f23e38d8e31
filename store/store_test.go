package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
)

// fixture inserts a provider, a service and a patient.
func fixture(t *testing.T, pool *pgxpool.Pool) *store.Store {
	t.Helper()
	ctx := context.Background()
	s := store.New(pool)
	_, err := s.CreateUser(ctx, domain.User{ID: "pat-1", Email: "ann@example.com", PasswordHash: "x", Name: "Ann", Role: domain.RolePatient})
	require.NoError(t, err)
	require.NoError(t, s.CreateProvider(ctx, domain.Provider{ID: "prov-1", Name: "Dr One", TimeZone: "Europe/Berlin"}))
	require.NoError(t, s.CreateService(ctx, domain.Service{ID: "svc-30", Name: "Consultation", DurationMinutes: 30}))
	return s
}

func insertBooking(ctx context.Context, pool *pgxpool.Pool, id, status string, start time.Time, minutes int) error {
	_, err := pool.Exec(ctx, `INSERT INTO bookings (id, status, provider_id, service_id, patient_id, start_at, end_at)
		VALUES ($1, $2, 'prov-1', 'svc-30', 'pat-1', $3, $4)`, id, status, start, start.Add(time.Duration(minutes)*time.Minute))
	return err
}

func TestDatabaseRefusesOverlappingBookings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.New(t)
	fixture(t, pool)
	nine := time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC)

	require.NoError(t, insertBooking(ctx, pool, "b1", "confirmed", nine, 30))

	// A plain SQL insert overlapping it, for each status that occupies time, is refused by
	// the exclusion constraint itself.
	for _, status := range []string{"held", "confirmed", "checked_in"} {
		err := insertBooking(ctx, pool, "b-"+status, status, nine.Add(15*time.Minute), 30)
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr, status)
		require.Equal(t, "23P01", pgErr.Code, status)
		require.Equal(t, "bookings_no_overlap", pgErr.ConstraintName)
	}

	// Back to back is not an overlap: ranges are half-open.
	require.NoError(t, insertBooking(ctx, pool, "b2", "held", nine.Add(30*time.Minute), 30))
	// Bookings that no longer hold time do not block.
	require.NoError(t, insertBooking(ctx, pool, "b3", "cancelled", nine, 30))
	require.NoError(t, insertBooking(ctx, pool, "b4", "expired", nine, 30))

	// Releasing a booking frees its time; taking it back while another holds it is refused.
	_, err := pool.Exec(ctx, `UPDATE bookings SET status = 'cancelled' WHERE id = 'b1'`)
	require.NoError(t, err)
	require.NoError(t, insertBooking(ctx, pool, "b5", "held", nine, 30))
	_, err = pool.Exec(ctx, `UPDATE bookings SET status = 'confirmed' WHERE id = 'b3'`)
	require.Error(t, err)
}

func TestCreateHoldIsIdempotentAndReportsTakenSlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.New(t)
	s := fixture(t, pool)
	start := time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC)
	exp := start.Add(-time.Hour)
	b := domain.Booking{ID: "b1", ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "pat-1", Start: start, End: start.Add(30 * time.Minute), HoldExpiresAt: &exp}

	first, err := s.CreateHold(ctx, b, 0, store.EventInput{Key: "status:held", Type: "status"})
	require.NoError(t, err)
	require.Equal(t, domain.StatusHeld, first.Status)
	again, err := s.CreateHold(ctx, b, 0, store.EventInput{Key: "status:held", Type: "status"})
	require.NoError(t, err)
	require.Equal(t, first.CreatedAt, again.CreatedAt)

	events, err := s.ListEvents(ctx, "b1")
	require.NoError(t, err)
	require.Len(t, events, 1)

	other := b
	other.ID = "b2"
	other.Start = start.Add(10 * time.Minute)
	other.End = other.Start.Add(30 * time.Minute)
	_, err = s.CreateHold(ctx, other, 0, store.EventInput{})
	require.True(t, store.IsSlotTaken(err), "got %v", err)
	require.Equal(t, domain.KindConflict, domain.ErrorKind(err))

	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM bookings`).Scan(&n))
	require.Equal(t, 1, n)
}

func TestChangeStatusAndMove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.New(t)
	s := fixture(t, pool)
	start := time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC)
	require.NoError(t, insertBooking(ctx, pool, "b1", "held", start, 30))
	require.NoError(t, insertBooking(ctx, pool, "b2", "held", start.Add(time.Hour), 30))

	confirm := store.StatusChange{BookingID: "b1", From: []domain.Status{domain.StatusHeld}, To: domain.StatusConfirmed,
		Event: store.EventInput{Key: "status:confirmed", Type: "status"}}
	b, err := s.ChangeStatus(ctx, confirm)
	require.NoError(t, err)
	require.Equal(t, domain.StatusConfirmed, b.Status)
	require.Nil(t, b.HoldExpiresAt)
	_, err = s.ChangeStatus(ctx, confirm) // a second run is harmless
	require.NoError(t, err)
	_, err = s.ChangeStatus(ctx, store.StatusChange{BookingID: "b1", From: []domain.Status{domain.StatusHeld}, To: domain.StatusExpired})
	require.Equal(t, domain.KindConflict, domain.ErrorKind(err))

	// Moving onto b2's time is refused and changes nothing.
	_, err = s.Move(ctx, "b1", start.Add(time.Hour), start.Add(90*time.Minute), 1, store.EventInput{})
	require.True(t, store.IsSlotTaken(err), "got %v", err)
	cur, err := s.GetBooking(ctx, "b1")
	require.NoError(t, err)
	require.True(t, cur.Start.Equal(start))
	require.Equal(t, 0, cur.Revision)

	// Moving by 15 minutes overlaps only its own old range: allowed.
	moved, err := s.Move(ctx, "b1", start.Add(15*time.Minute), start.Add(45*time.Minute), 1, store.EventInput{Key: "moved:1", Type: "rescheduled"})
	require.NoError(t, err)
	require.Equal(t, 1, moved.Revision)
	again, err := s.Move(ctx, "b1", start.Add(15*time.Minute), start.Add(45*time.Minute), 1, store.EventInput{Key: "moved:1", Type: "rescheduled"})
	require.NoError(t, err)
	require.Equal(t, moved.UpdatedAt, again.UpdatedAt)
}

func TestUniqueEmailsAndNotifications(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.New(t)
	s := fixture(t, pool)
	_, err := s.CreateUser(ctx, domain.User{ID: "pat-2", Email: "ANN@example.com", PasswordHash: "x", Name: "Ann 2", Role: domain.RolePatient})
	require.Equal(t, domain.KindConflict, domain.ErrorKind(err))

	require.NoError(t, insertBooking(ctx, pool, "b1", "confirmed", time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC), 30))
	insert := func(id, kind, channel string) error {
		_, err := pool.Exec(ctx, `INSERT INTO notifications (id, booking_id, kind, channel, recipient, status) VALUES ($1, 'b1', $2, $3, 'x', 'pending')`, id, kind, channel)
		return err
	}
	require.NoError(t, insert("n1", "confirmation", "sms"))
	require.NoError(t, insert("n2", "confirmation", "email"))
	err = insert("n3", "confirmation", "sms")
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "23505", pgErr.Code)
}

// A message found at Twilio by its text is another notification's when another row holds its
// SID; the row asking does not count.
func TestClaimedProviderIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.New(t)
	s := fixture(t, pool)
	require.NoError(t, insertBooking(ctx, pool, "b1", "confirmed", time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC), 30))
	for _, n := range []struct{ id, kind, sid string }{{"n1", "confirmation", "SM1"}, {"n2", "reminder", ""}} {
		_, err := pool.Exec(ctx, `INSERT INTO notifications (id, booking_id, kind, channel, recipient, status, provider_message_id)
			VALUES ($1, 'b1', $2, 'sms', 'x', 'sent', nullif($3, ''))`, n.id, n.kind, n.sid)
		require.NoError(t, err)
	}
	claimed, err := s.ClaimedProviderIDs(ctx, "n2", []string{"SM1", "SM2"})
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"SM1": true}, claimed)
	claimed, err = s.ClaimedProviderIDs(ctx, "n1", []string{"SM1", "SM2"})
	require.NoError(t, err)
	require.Empty(t, claimed, "a row's own SID is not another's")
}

// A delivery report that outruns the write of the message id is kept and applied when the id
// is stored, and a final status is never overwritten by an earlier one.
func TestEarlyDeliveryReportIsNotLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.New(t)
	s := fixture(t, pool)
	require.NoError(t, insertBooking(ctx, pool, "b1", "confirmed", time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC), 30))
	n, err := s.EnsureNotification(ctx, domain.Notification{ID: "n1", BookingID: "b1", Kind: "confirmation", Channel: "sms", Recipient: "+15550001111"})
	require.NoError(t, err)
	require.NoError(t, s.MarkNotificationSending(ctx, n.ID))

	_, err = s.SetDeliveryStatus(ctx, "SM1", "delivered")
	require.Equal(t, domain.KindNotFound, domain.ErrorKind(err))
	_, err = s.SetDeliveryStatus(ctx, "SM1", "sent") // late and out of order
	require.Equal(t, domain.KindNotFound, domain.ErrorKind(err))

	require.NoError(t, s.MarkNotificationSent(ctx, n.ID, "SM1"))
	ns, err := s.ListNotifications(ctx, "b1")
	require.NoError(t, err)
	require.Equal(t, "delivered", ns[0].Status)
	require.Equal(t, "SM1", ns[0].ProviderMessageID)

	// Reports for a known message apply directly, and never undo a final state.
	got, err := s.SetDeliveryStatus(ctx, "SM1", "queued")
	require.NoError(t, err)
	require.Equal(t, "delivered", got.Status)
}

func TestCreateHoldNamesAnUnknownPatient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := fixture(t, storetest.New(t))
	start := time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC)
	_, err := s.CreateHold(ctx, domain.Booking{ID: "b1", ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "nobody",
		Start: start, End: start.Add(30 * time.Minute)}, 0, store.EventInput{})
	var de *domain.Error
	require.ErrorAs(t, err, &de)
	require.Equal(t, domain.KindUnprocessable, de.Kind)
	require.Equal(t, []domain.FieldError{{Field: "patient_id", Message: "no such patient"}}, de.Fields)
}

func TestHoldsPerPatientAreCapped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := fixture(t, storetest.New(t))
	start := time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC)
	hold := func(i int) error {
		st := start.Add(time.Duration(i) * time.Hour)
		_, err := s.CreateHold(ctx, domain.Booking{ID: fmt.Sprintf("b%d", i), ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "pat-1",
			Start: st, End: st.Add(30 * time.Minute)}, 0, store.EventInput{})
		return err
	}
	for i := range store.MaxHoldsPerPatient {
		require.NoError(t, hold(i))
	}
	err := hold(store.MaxHoldsPerPatient)
	require.Equal(t, domain.KindConflict, domain.ErrorKind(err))
	require.Contains(t, err.Error(), "on hold already")
	// Holding the same booking again is a retry, not one more hold.
	require.NoError(t, hold(0))
}

// Holds sent at once by one patient (a script, or double clicks on several slots) cannot
// overrun the cap: each counts what the others committed while it waited for the patient's
// lock. Counting in the statement that takes the lock did not, since that statement's snapshot
// predates the wait.
func TestParallelHoldsStayWithinTheCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := fixture(t, storetest.New(t))
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	const parallel, limit = 8, 2
	var wg sync.WaitGroup
	errs := make([]error, parallel)
	for i := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := start.Add(time.Duration(i) * time.Hour)
			_, errs[i] = s.CreateHold(ctx, domain.Booking{ID: fmt.Sprintf("p%d", i), ProviderID: "prov-1", ServiceID: "svc-30",
				PatientID: "pat-1", Start: st, End: st.Add(30 * time.Minute)}, limit, store.EventInput{})
		}()
	}
	wg.Wait()
	held := 0
	for _, err := range errs {
		if err == nil {
			held++
		} else {
			require.Equal(t, domain.KindConflict, domain.ErrorKind(err), "%v", err)
		}
	}
	require.Equal(t, limit, held, "holds made at once by one patient")
}

// A patient's future held and confirmed bookings are capped together; past ones, cancelled
// ones and a retried hold do not count.
func TestActiveBookingsPerPatientAreCapped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := fixture(t, storetest.New(t))
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	hold := func(i int) error {
		st := start.Add(time.Duration(i) * time.Hour)
		_, err := s.CreateHold(ctx, domain.Booking{ID: fmt.Sprintf("b%d", i), ProviderID: "prov-1", ServiceID: "svc-30", PatientID: "pat-1",
			Start: st, End: st.Add(30 * time.Minute)}, 3, store.EventInput{})
		return err
	}
	require.NoError(t, hold(0))
	require.NoError(t, hold(1))
	_, err := s.ChangeStatus(ctx, store.StatusChange{BookingID: "b1", From: []domain.Status{domain.StatusHeld}, To: domain.StatusConfirmed})
	require.NoError(t, err)
	require.NoError(t, hold(2))
	err = hold(3)
	require.Equal(t, domain.KindConflict, domain.ErrorKind(err))
	require.Contains(t, err.Error(), "3 upcoming bookings")
	require.NoError(t, hold(1), "a retry of a booking already made is not one more")

	_, err = s.ChangeStatus(ctx, store.StatusChange{BookingID: "b0", From: []domain.Status{domain.StatusHeld}, To: domain.StatusCancelled})
	require.NoError(t, err)
	require.NoError(t, hold(3), "a cancelled booking frees its place")
}
