package seed

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/clinicbook/booking/store"
)

// ScaleStore writes a generated clinic group (store.Store does).
type ScaleStore interface {
	SeedScale(ctx context.Context, spec store.ScaleSpec, progress func(done int)) (map[string]int, error)
}

// BookingsPerDoctor sizes the generated clinic group: a doctor's hours over two years cut into
// about 8,500 appointments, so with one doctor per 8,000 bookings about 80% of the appointments
// are taken and the usual 85% of the bookings occupy time (the rest cancelled or expired on the
// same times). With a fixed 50 doctors a million bookings would be more than half cancellations.
const BookingsPerDoctor = 8000

// ScaleSpec returns the clinic group `booking seed --bookings n` makes: a doctor per 8,000
// bookings (at least 50) in Berlin and New York, a patient for every 20 bookings, two years
// around now.
func ScaleSpec(bookings int, now time.Time) store.ScaleSpec {
	return store.ScaleSpec{Bookings: bookings, Providers: max(50, (bookings+BookingsPerDoctor-1)/BookingsPerDoctor),
		Patients: max(100, bookings/20), Now: now, Span: 2 * 365 * 24 * time.Hour}
}

// Scale generates spec's clinic group for measuring and tells out what it made and how long it
// took.
func Scale(ctx context.Context, st ScaleStore, spec store.ScaleSpec, out io.Writer) (map[string]int, error) {
	began := time.Now()
	fmt.Fprintf(out, "seeding %d bookings: %d doctors, %d patients, %s to %s\n", spec.Bookings, spec.Providers, spec.Patients,
		spec.Now.Add(-spec.Span/2).Format(time.DateOnly), spec.Now.Add(spec.Span/2).Format(time.DateOnly))
	counts, err := st.SeedScale(ctx, spec, func(done int) {
		fmt.Fprintf(out, "  %d bookings written (%s)\n", done, time.Since(began).Round(time.Second))
	})
	if err != nil {
		return nil, err
	}
	statuses := make([]string, 0, len(counts))
	total := 0
	for s, n := range counts {
		statuses = append(statuses, s)
		total += n
	}
	sort.Strings(statuses)
	for _, s := range statuses {
		fmt.Fprintf(out, "  %-10s %9d  %5.1f%%\n", s, counts[s], 100*float64(counts[s])/float64(total))
	}
	fmt.Fprintf(out, "seeded %d bookings in %s\n", total, time.Since(began).Round(100*time.Millisecond))
	return counts, nil
}
