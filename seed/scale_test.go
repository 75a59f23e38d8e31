package seed_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/seed"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
)

func TestScaleMakesEveryStatusWithoutOverlaps(t *testing.T) {
	ctx := context.Background()
	pool := storetest.New(t)
	st := store.New(pool)
	// A Wednesday, 10:05 in Berlin: doctors there are at work, so someone is checked in.
	now := time.Date(2030, 1, 9, 9, 5, 0, 0, time.UTC)
	var out bytes.Buffer
	counts, err := seed.Scale(ctx, st, seed.ScaleSpec(2000, now), &out)
	require.NoError(t, err)
	t.Log(out.String())

	total := 0
	for _, s := range domain.Statuses {
		require.Positive(t, counts[string(s)], "no %s bookings: %v", s, counts)
		total += counts[string(s)]
	}
	require.Equal(t, 2000, total)
	// Plausible proportions: most bookings are done or ahead; refusals and lapses a minority.
	require.Greater(t, counts["completed"], counts["no_show"])
	require.Greater(t, counts["confirmed"], counts["held"])
	require.Less(t, counts["cancelled"]+counts["expired"], total/3)

	var zones, overlaps, beyond int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(DISTINCT time_zone) FROM providers`).Scan(&zones))
	require.Equal(t, 2, zones)
	// Appointments that took place or will never overlap one another, whatever their status.
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM bookings a JOIN bookings b
		ON a.provider_id = b.provider_id AND a.id < b.id AND a.during && b.during
		WHERE a.status IN ('held', 'confirmed', 'checked_in', 'completed', 'no_show')
		  AND b.status IN ('held', 'confirmed', 'checked_in', 'completed', 'no_show')`).Scan(&overlaps))
	require.Zero(t, overlaps)
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM bookings
		WHERE start_at < $1::timestamptz - interval '366 days' OR start_at > $1::timestamptz + interval '366 days'`, now).Scan(&beyond))
	require.Zero(t, beyond, "bookings outside the two years")

	// Availability and the slot check work on what it made.
	var provider string
	require.NoError(t, pool.QueryRow(ctx, `SELECT provider_id FROM bookings WHERE status = 'confirmed' LIMIT 1`).Scan(&provider))
	cal, err := st.Calendar(ctx, provider, "scale-svc-30", now, now.AddDate(0, 1, 0))
	require.NoError(t, err)
	require.Equal(t, 30*time.Minute, cal.Length)
	require.Len(t, cal.Schedule.Weekly, 10)

	// A second run refuses rather than doubling the data.
	_, err = seed.Scale(ctx, st, seed.ScaleSpec(2000, now), &out)
	require.Error(t, err)
}
