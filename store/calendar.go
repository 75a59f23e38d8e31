package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clinicbook/booking/domain"
)

// MaxBookingLength is the longest a booking may last (the bookings_length_bounded constraint,
// matching the services' own limit of 480 minutes). Whatever overlaps a window starts less
// than this before it, which is what lets busy time be found by start alone.
const MaxBookingLength = 8 * time.Hour

// Calendar is everything availability is computed from, read in one statement: the provider's
// schedule (its exceptions only for the dates asked about), the service's length and the busy
// time in the window.
type Calendar struct {
	Schedule domain.Schedule
	// Length is the service's duration; zero when no such service exists.
	Length time.Duration
	Busy   []domain.Slot
}

// calendarFrom is the part the calendar reads share: the provider (no row when it does not
// exist), the service (NULL when it does not), the weekly hours, and the exceptions dated
// between $3 and $4.
const calendarFrom = `
	FROM providers p
	LEFT JOIN services svc ON svc.id = $2
	CROSS JOIN LATERAL (
		SELECT array_agg(weekday ORDER BY weekday, start_minute) AS weekdays,
		       array_agg(start_minute ORDER BY weekday, start_minute) AS starts,
		       array_agg(end_minute ORDER BY weekday, start_minute) AS ends
		FROM working_hours WHERE provider_id = p.id) wh
	CROSS JOIN LATERAL (
		SELECT array_agg(day ORDER BY day, start_minute NULLS FIRST) AS days,
		       array_agg(start_minute ORDER BY day, start_minute NULLS FIRST) AS starts,
		       array_agg(end_minute ORDER BY day, start_minute NULLS FIRST) AS ends
		FROM schedule_exceptions WHERE provider_id = p.id AND day BETWEEN $3 AND $4) ex`

// liveAt is the condition for a booking that holds its time: held (until the hold lapses:
// CreateHold takes a lapsed hold's slot over), confirmed or checked in. The status list is the
// partial indexes' own predicate, so that the planner can use them.
const liveAt = `status IN ('held', 'confirmed', 'checked_in') AND (status <> 'held' OR hold_expires_at > now())`

// Calendar reads what the availability of serviceID with providerID in [from, to) is made of,
// in one statement. A provider that does not exist is not found; a service that does not exist
// leaves Length zero.
//
// Busy time comes from bookings_live_provider_start alone (an index-only scan), bounded on
// both sides by start: a booking overlapping the window starts before to and at most
// MaxBookingLength before from.
func (s *Store) Calendar(ctx context.Context, providerID, serviceID string, from, to time.Time) (Calendar, error) {
	firstDay, lastDay := exceptionDates(from, to)
	row := s.pool.QueryRow(ctx, `SELECT p.time_zone, svc.duration_minutes, wh.weekdays, wh.starts, wh.ends,
			ex.days, ex.starts, ex.ends, busy.starts, busy.ends`+calendarFrom+`
		CROSS JOIN LATERAL (
			SELECT array_agg(start_at ORDER BY start_at) AS starts, array_agg(end_at ORDER BY start_at) AS ends
			FROM bookings
			WHERE provider_id = p.id AND `+liveAt+`
			  AND start_at > $5::timestamptz - interval '8 hours' AND start_at < $6 AND end_at > $5) busy
		WHERE p.id = $1`, providerID, serviceID, firstDay, lastDay, from, to)
	var cal Calendar
	var busyStarts, busyEnds []time.Time
	err := scanCalendar(row, &cal, &busyStarts, &busyEnds)
	if err != nil {
		return Calendar{}, err
	}
	cal.Busy = make([]domain.Slot, len(busyStarts))
	for i := range busyStarts {
		cal.Busy[i] = domain.Slot{Start: busyStarts[i], End: busyEnds[i]}
	}
	return cal, nil
}

// SlotCheck reads, in one statement, what a new booking's request is checked against before
// anything is started for it: the provider's schedule around start and the service's length
// (so that the caller can tell whether start is offered), and whether another booking than
// bookingID holds time that [start, start + length) overlaps. It only advises: the exclusion
// constraint still decides every race.
func (s *Store) SlotCheck(ctx context.Context, bookingID, providerID, serviceID string, start time.Time) (cal Calendar, taken bool, err error) {
	firstDay, lastDay := exceptionDates(start, start)
	row := s.pool.QueryRow(ctx, `SELECT p.time_zone, svc.duration_minutes, wh.weekdays, wh.starts, wh.ends,
			ex.days, ex.starts, ex.ends,
			EXISTS (SELECT 1 FROM bookings
				WHERE provider_id = p.id AND `+liveAt+`
				  AND start_at > $5::timestamptz - interval '8 hours'
				  AND start_at < $5::timestamptz + make_interval(mins => svc.duration_minutes) AND end_at > $5
				  AND id <> $6)`+calendarFrom+`
		WHERE p.id = $1`, providerID, serviceID, firstDay, lastDay, start, bookingID)
	err = scanCalendar(row, &cal, &taken)
	return cal, taken, err
}

// exceptionDates bounds the local dates a window touches, whatever the provider's time zone
// (offsets stay within a day of UTC), with the day before that availability also looks at.
func exceptionDates(from, to time.Time) (time.Time, time.Time) {
	day := func(t time.Time) time.Time {
		t = t.UTC()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return day(from).AddDate(0, 0, -2), day(to).AddDate(0, 0, 1)
}

// scanCalendar reads the columns the calendar reads share into cal, then extra.
func scanCalendar(row pgx.Row, cal *Calendar, extra ...any) error {
	var minutes *int32
	var whDays, whStarts, whEnds []int16
	var exDays []time.Time
	var exStarts, exEnds []*int16
	dest := append([]any{&cal.Schedule.TimeZone, &minutes, &whDays, &whStarts, &whEnds, &exDays, &exStarts, &exEnds}, extra...)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return domain.Errorf(domain.KindNotFound, "provider not found")
		}
		return fmt.Errorf("read calendar: %w", err)
	}
	if minutes != nil {
		cal.Length = time.Duration(*minutes) * time.Minute
	}
	cal.Schedule.Weekly = make([]domain.WorkingHours, len(whDays))
	for i := range whDays {
		cal.Schedule.Weekly[i] = domain.WorkingHours{Weekday: time.Weekday(whDays[i]), Start: domain.Clock(whStarts[i]), End: domain.Clock(whEnds[i])}
	}
	cal.Schedule.Exceptions = []domain.Exception{}
	for i, d := range exDays {
		date := domain.DateOf(d)
		n := len(cal.Schedule.Exceptions)
		if n == 0 || cal.Schedule.Exceptions[n-1].Date != date {
			cal.Schedule.Exceptions = append(cal.Schedule.Exceptions, domain.Exception{Date: date, Closed: true})
			n++
		}
		if exStarts[i] != nil {
			ex := &cal.Schedule.Exceptions[n-1]
			ex.Closed = false
			ex.Hours = append(ex.Hours, domain.TimeRange{Start: domain.Clock(*exStarts[i]), End: domain.Clock(*exEnds[i])})
		}
	}
	return nil
}
