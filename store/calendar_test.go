package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
)

// statements counts the statements a pool runs and keeps the last one, to explain it.
type statements struct {
	mu   sync.Mutex
	n    int
	sql  string
	args []any
}

func (c *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.HasPrefix(d.SQL, "-- ping") {
		return ctx // the pool's health check, not ours
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	c.sql, c.args = d.SQL, d.Args
	return ctx
}

func (c *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *statements) take() (int, string, []any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = 0
	return n, c.sql, c.args
}

func TestCalendarReadsAnyWindowInOneStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := storetest.NewURL(t)
	setup, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	defer setup.Close()
	fixture(t, setup)
	plain := store.New(setup)

	// Monday 2030-01-07; Berlin is UTC+1 in January.
	monday := time.Date(2030, 1, 7, 0, 0, 0, 0, time.UTC)
	require.NoError(t, plain.ReplaceSchedule(ctx, "prov-1", domain.Schedule{TimeZone: "Europe/Berlin",
		Weekly: []domain.WorkingHours{{Weekday: time.Monday, Start: 9 * 60, End: 17 * 60}, {Weekday: time.Tuesday, Start: 9 * 60, End: 12 * 60}},
		Exceptions: []domain.Exception{
			{Date: domain.Date{Year: 2030, Month: 1, Day: 8}, Closed: true},
			{Date: domain.Date{Year: 2030, Month: 1, Day: 9}, Hours: []domain.TimeRange{{Start: 10 * 60, End: 11 * 60}, {Start: 14 * 60, End: 15 * 60}}},
			{Date: domain.Date{Year: 2031, Month: 6, Day: 1}, Closed: true}, // far outside every window
		}}))

	at := func(h, m int) time.Time { return monday.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	require.NoError(t, insertBooking(ctx, setup, "confirmed", "confirmed", at(9, 0), 30))
	require.NoError(t, insertBooking(ctx, setup, "checked-in", "checked_in", at(10, 0), 30))
	require.NoError(t, insertBooking(ctx, setup, "cancelled", "cancelled", at(9, 0), 30))
	// Starts before the day window below and runs into it.
	require.NoError(t, insertBooking(ctx, setup, "overnight", "confirmed", at(-2, 0), 180))
	// Ends before the window starts: not busy in it.
	require.NoError(t, insertBooking(ctx, setup, "before", "confirmed", at(-3, 0), 60))
	_, err = setup.Exec(ctx, `INSERT INTO bookings (id, status, provider_id, service_id, patient_id, start_at, end_at, hold_expires_at)
		VALUES ('held', 'held', 'prov-1', 'svc-30', 'pat-1', $1, $2, now() + interval '10 minutes'),
		       ('lapsed', 'held', 'prov-1', 'svc-30', 'pat-1', $3, $4, now() - interval '1 minute')`,
		at(11, 0), at(11, 30), at(12, 0), at(12, 30))
	require.NoError(t, err)

	// A pool whose statements are counted.
	var counted statements
	pool, err := store.Open(ctx, dbURL, store.WithTracer(&counted))
	require.NoError(t, err)
	defer pool.Close()
	s := store.New(pool)
	counted.take()

	day, err := s.Calendar(ctx, "prov-1", "svc-30", at(-1, 0), at(23, 0))
	require.NoError(t, err)
	n, sql, args := counted.take()
	require.LessOrEqual(t, n, 3, "statements for a day")
	require.Equal(t, 30*time.Minute, day.Length)
	require.Equal(t, "Europe/Berlin", day.Schedule.TimeZone)
	require.Len(t, day.Schedule.Weekly, 2)
	require.Equal(t, []domain.Exception{
		{Date: domain.Date{Year: 2030, Month: 1, Day: 8}, Closed: true},
	}, day.Schedule.Exceptions, "only the exceptions near the window")
	// A lapsed hold and a cancelled booking hold no time.
	require.Equal(t, []domain.Slot{
		{Start: at(-2, 0), End: at(1, 0)},
		{Start: at(9, 0), End: at(9, 30)},
		{Start: at(10, 0), End: at(10, 30)},
		{Start: at(11, 0), End: at(11, 30)},
	}, utc(day.Busy))

	for name, days := range map[string]int{"week": 7, "month": 31, "two months": 62} {
		cal, err := s.Calendar(ctx, "prov-1", "svc-30", monday, monday.AddDate(0, 0, days))
		require.NoError(t, err)
		n, _, _ := counted.take()
		require.LessOrEqual(t, n, 3, "statements for a %s", name)
		require.Len(t, cal.Busy, 4, name)
		require.Len(t, cal.Schedule.Exceptions, 2, name)
	}

	// Unknown provider: not found; unknown service: no length.
	_, err = s.Calendar(ctx, "nobody", "svc-30", monday, monday.AddDate(0, 0, 1))
	require.True(t, domain.IsKind(err, domain.KindNotFound), "%v", err)
	cal, err := s.Calendar(ctx, "prov-1", "nothing", monday, monday.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Zero(t, cal.Length)

	// The busy time comes from the covering index alone once the table is of some size: a
	// year of back-to-back bookings of twenty other doctors, half of them in the past.
	_, err = setup.Exec(ctx, `INSERT INTO providers (id, name, time_zone) SELECT 'other-' || i, 'Dr ' || i, 'UTC' FROM generate_series(1, 20) i;
		INSERT INTO bookings (id, status, provider_id, service_id, patient_id, start_at, end_at)
		SELECT 'bulk-' || i || '-' || n, CASE WHEN n < 1000 THEN 'completed' ELSE 'confirmed' END, 'other-' || i, 'svc-30', 'pat-1',
		       timestamptz '2029-06-01' + n * interval '2 hours', timestamptz '2029-06-01' + n * interval '2 hours' + interval '30 minutes'
		FROM generate_series(1, 20) i, generate_series(1, 2000) n`)
	require.NoError(t, err)
	_, err = setup.Exec(ctx, `VACUUM (ANALYZE) bookings`)
	require.NoError(t, err)
	plan := explain(t, setup, sql, args)
	require.Contains(t, plan, "Index Only Scan using bookings_live_provider_start", plan)
}

func TestSlotCheckSeesLiveOverlapsButNotItself(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.New(t)
	s := fixture(t, pool)
	require.NoError(t, s.ReplaceSchedule(ctx, "prov-1", domain.Schedule{TimeZone: "Europe/Berlin",
		Weekly: []domain.WorkingHours{{Weekday: time.Monday, Start: 9 * 60, End: 17 * 60}}}))
	nine := time.Date(2030, 1, 7, 8, 0, 0, 0, time.UTC) // 09:00 in Berlin
	require.NoError(t, insertBooking(ctx, pool, "b1", "confirmed", nine, 30))
	require.NoError(t, insertBooking(ctx, pool, "gone", "cancelled", nine.Add(time.Hour), 30))

	for _, c := range []struct {
		id    string
		start time.Time
		taken bool
	}{
		{"new", nine, true},
		{"new", nine.Add(15 * time.Minute), true},
		{"new", nine.Add(-15 * time.Minute), true}, // its 30 minutes reach into b1
		{"new", nine.Add(30 * time.Minute), false},
		{"new", nine.Add(-30 * time.Minute), false},
		{"new", nine.Add(time.Hour), false},
		{"b1", nine, false}, // a retried request for the booking that holds it
	} {
		cal, taken, err := s.SlotCheck(ctx, c.id, "prov-1", "svc-30", c.start)
		require.NoError(t, err)
		require.Equal(t, c.taken, taken, "%s at %s", c.id, c.start)
		require.Equal(t, 30*time.Minute, cal.Length)
		require.Len(t, cal.Schedule.Weekly, 1)
	}
	_, _, err := s.SlotCheck(ctx, "new", "nobody", "svc-30", nine)
	require.True(t, domain.IsKind(err, domain.KindNotFound), "%v", err)
	cal, taken, err := s.SlotCheck(ctx, "new", "prov-1", "nothing", nine)
	require.NoError(t, err)
	require.False(t, taken)
	require.Zero(t, cal.Length)
}

// explain plans sql with args as the server would run it.
func explain(t *testing.T, pool interface {
	Begin(context.Context) (pgx.Tx, error)
}, sql string, args []any) string {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	rows, err := tx.Query(ctx, "EXPLAIN "+sql, args...)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return strings.Join(lines, "\n")
}

func utc(slots []domain.Slot) []domain.Slot {
	out := make([]domain.Slot, len(slots))
	for i, s := range slots {
		out[i] = domain.Slot{Start: s.Start.UTC(), End: s.End.UTC()}
	}
	return out
}
