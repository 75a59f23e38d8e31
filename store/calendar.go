package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store/internal/db"
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

// Calendar reads what the availability of serviceID with providerID in [from, to) is made of,
// in one statement (queries/calendar.sql). A provider that does not exist is not found; a
// service that does not exist leaves Length zero.
//
// Busy time comes from bookings_live_provider_start alone (an index-only scan), bounded on
// both sides by start: a booking overlapping the window starts before to and at most
// MaxBookingLength before from.
func (s *Store) Calendar(ctx context.Context, providerID, serviceID string, from, to time.Time) (Calendar, error) {
	firstDay, lastDay := exceptionDates(from, to)
	r, err := s.q.Calendar(ctx, db.CalendarParams{ProviderID: providerID, ServiceID: serviceID,
		FirstDay: firstDay, LastDay: lastDay, FromTime: from, ToTime: to})
	if err != nil {
		return Calendar{}, calendarError(err)
	}
	cal := calendarOf(r.TimeZone, r.DurationMinutes, r.WhWeekdays, r.WhStarts, r.WhEnds, r.ExDays, r.ExStarts, r.ExEnds)
	cal.Busy = make([]domain.Slot, len(r.BusyStarts))
	for i := range r.BusyStarts {
		cal.Busy[i] = domain.Slot{Start: r.BusyStarts[i], End: r.BusyEnds[i]}
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
	r, err := s.q.SlotCheck(ctx, db.SlotCheckParams{BookingID: bookingID, ProviderID: providerID, ServiceID: serviceID,
		FirstDay: firstDay, LastDay: lastDay, StartAt: start})
	if err != nil {
		return Calendar{}, false, calendarError(err)
	}
	return calendarOf(r.TimeZone, r.DurationMinutes, r.WhWeekdays, r.WhStarts, r.WhEnds, r.ExDays, r.ExStarts, r.ExEnds), r.Taken, nil
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

func calendarError(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Errorf(domain.KindNotFound, "provider not found")
	}
	return fmt.Errorf("read calendar: %w", err)
}

// calendarOf builds the schedule and length from the columns the calendar reads share: the
// weekly hours as parallel arrays, and the exceptions likewise, in date order, -1 for the
// minutes of a closed day's row.
func calendarOf(timeZone string, minutes *int, whDays, whStarts, whEnds []int, exDays []time.Time, exStarts, exEnds []int) Calendar {
	var cal Calendar
	cal.Schedule.TimeZone = timeZone
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
		if exStarts[i] >= 0 {
			ex := &cal.Schedule.Exceptions[n-1]
			ex.Closed = false
			ex.Hours = append(ex.Hours, domain.TimeRange{Start: domain.Clock(exStarts[i]), End: domain.Clock(exEnds[i])})
		}
	}
	return cal
}
