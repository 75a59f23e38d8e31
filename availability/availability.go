// Package availability turns a provider's schedule into bookable slots. Working hours are
// wall-clock times in the provider's own time zone, while slots are absolute instants, so all
// the daylight-saving care of the platform lives here.
package availability

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/clinicbook/booking/domain"
)

// MaxRange is the longest span one Slots call may cover, so a caller cannot make us enumerate
// years of slots.
const MaxRange = 62 * 24 * time.Hour

// minLength keeps the slot grid bounded: services are booked in whole minutes, and a
// nanosecond length over MaxRange would mean quadrillions of slots.
const minLength = time.Minute

const endOfDay = domain.Clock(24 * 60)

// Slots returns the free slots of the given length that lie entirely within [from, to), start at
// or after now, and overlap none of busy. A zero now imposes no restriction.
//
// Slots start at each working interval's start and follow each other every length of real time,
// so a slot is always length long even across a daylight-saving change. They are sorted by start
// and expressed in the provider's time zone.
func Slots(sched domain.Schedule, length time.Duration, from, to, now time.Time, busy []domain.Slot) ([]domain.Slot, error) {
	if err := checkLength(length); err != nil {
		return nil, err
	}
	if !to.After(from) {
		return nil, domain.Invalid("to must be after from", domain.FieldError{Field: "to", Message: "must be after from"})
	}
	if to.Sub(from) > MaxRange {
		return nil, domain.Invalid("range too long", domain.FieldError{Field: "to", Message: "range may span at most 62 days"})
	}
	loc, err := location(sched.TimeZone)
	if err != nil {
		return nil, err
	}
	busy = mergeBusy(busy)
	exceptions := exceptionsByDate(sched.Exceptions)

	// Not nil, so that no slots marshal as [] rather than null.
	out := []domain.Slot{}
	// A day's intervals can reach its next midnight, so the day before from's may hold slots in
	// range; a spare day costs little.
	first := domain.DateOf(from.In(loc)).AddDays(-1)
	last := domain.DateOf(to.In(loc))
	for d := first; !last.Before(d); d = d.AddDays(1) {
		for _, iv := range intervals(sched, exceptions, d, loc) {
			for s := iv.start; !s.Add(length).After(iv.end); s = s.Add(length) {
				e := s.Add(length)
				if e.After(to) {
					break
				}
				if s.Before(from) || s.Before(now) || overlaps(busy, s, e) {
					continue
				}
				out = append(out, domain.Slot{Start: s, End: e})
			}
		}
	}

	slices.SortFunc(out, func(a, b domain.Slot) int { return a.Start.Compare(b.Start) })
	// An unvalidated schedule may list the same interval twice; offer each slot once.
	out = slices.CompactFunc(out, func(a, b domain.Slot) bool { return a.Start.Equal(b.Start) && a.End.Equal(b.End) })
	return out, nil
}

// CheckStart refuses a booking's start that the API and the hold must both refuse: a start
// that has passed, a service of no length (none was found), a start that is not one of the
// schedule's slots for that length. The refusals name the request's fields.
func CheckStart(sched domain.Schedule, length time.Duration, start, now time.Time) error {
	if !start.After(now) {
		return &domain.Error{Kind: domain.KindUnprocessable, Message: "that time has passed",
			Fields: []domain.FieldError{{Field: "start", Message: "in the past"}}}
	}
	if length == 0 {
		return &domain.Error{Kind: domain.KindUnprocessable, Message: "unknown service",
			Fields: []domain.FieldError{{Field: "service_id", Message: "no such service"}}}
	}
	ok, err := Offered(sched, length, start)
	if err != nil {
		return err
	}
	if !ok {
		return &domain.Error{Kind: domain.KindUnprocessable, Message: "start is not an offered slot",
			Fields: []domain.FieldError{{Field: "start", Message: "not one of the provider's slots for this service"}}}
	}
	return nil
}

// Offered reports whether start is one of the slot starts the schedule offers for this length,
// regardless of bookings or the current time. It is what a booking request must be checked
// against, so that clients cannot book at arbitrary instants.
func Offered(sched domain.Schedule, length time.Duration, start time.Time) (bool, error) {
	if err := checkLength(length); err != nil {
		return false, err
	}
	loc, err := location(sched.TimeZone)
	if err != nil {
		return false, err
	}
	exceptions := exceptionsByDate(sched.Exceptions)
	// Any slot starts on the local date of the interval it comes from; the day before is checked
	// too, as Slots does, so the two can never disagree.
	d := domain.DateOf(start.In(loc))
	for _, day := range []domain.Date{d.AddDays(-1), d} {
		for _, iv := range intervals(sched, exceptions, day, loc) {
			if start.Before(iv.start) || start.Add(length).After(iv.end) {
				continue
			}
			if start.Sub(iv.start)%length == 0 {
				return true, nil
			}
		}
	}
	return false, nil
}

// ValidateSchedule reports every problem with a schedule as one KindInvalid error, or nil.
func ValidateSchedule(s domain.Schedule) error {
	var fe domain.FieldErrors
	if s.TimeZone == "" {
		fe.Add("time_zone", "is required")
	} else if _, err := location(s.TimeZone); err != nil {
		fe.Add("time_zone", "unknown time zone %q", s.TimeZone)
	}

	var byDay [7][]namedRange
	for i, w := range s.Weekly {
		field := fmt.Sprintf("weekly[%d]", i)
		ok := checkRange(&fe, field, w.Start, w.End)
		if w.Weekday < time.Sunday || w.Weekday > time.Saturday {
			fe.Add(field+".weekday", "must be 0 (Sunday) to 6 (Saturday)")
			ok = false
		}
		if ok {
			byDay[w.Weekday] = append(byDay[w.Weekday], namedRange{field, domain.TimeRange{Start: w.Start, End: w.End}})
		}
	}
	for _, ranges := range byDay {
		checkOverlaps(&fe, ranges)
	}

	seen := make(map[domain.Date]int, len(s.Exceptions))
	for i, e := range s.Exceptions {
		field := fmt.Sprintf("exceptions[%d]", i)
		if !validDate(e.Date) {
			fe.Add(field+".date", "is not a valid date")
		} else if j, dup := seen[e.Date]; dup {
			fe.Add(field+".date", "%s already has an exception (exceptions[%d])", e.Date, j)
		} else {
			seen[e.Date] = i
		}
		if e.Closed && len(e.Hours) > 0 {
			fe.Add(field+".hours", "must be empty on a closed day")
		}
		var ranges []namedRange
		for k, h := range e.Hours {
			hf := fmt.Sprintf("%s.hours[%d]", field, k)
			if checkRange(&fe, hf, h.Start, h.End) {
				ranges = append(ranges, namedRange{hf, h})
			}
		}
		checkOverlaps(&fe, ranges)
	}
	return fe.Err("invalid schedule")
}

// span is one working interval resolved to instants.
type span struct{ start, end time.Time }

// intervals resolves the working hours of one local date: its exception if it has one, else the
// weekly hours for its weekday.
func intervals(sched domain.Schedule, exceptions map[domain.Date]domain.Exception, d domain.Date, loc *time.Location) []span {
	var out []span
	if e, ok := exceptions[d]; ok {
		if e.Closed {
			return nil
		}
		for _, h := range e.Hours {
			out = append(out, span{instant(d, h.Start, loc), instant(d, h.End, loc)})
		}
		return out
	}
	wd := d.Weekday()
	for _, w := range sched.Weekly {
		if w.Weekday == wd {
			out = append(out, span{instant(d, w.Start, loc), instant(d, w.End, loc)})
		}
	}
	return out
}

// instant is wall-clock c on date d in loc, 24:00 being the next day's midnight.
//
// time.Date leaves wall times that occur twice or not at all unspecified, and in practice
// resolves them differently east and west of UTC (01:00 on New York's fall-back day becomes the
// first 01:00, 02:00 on Berlin's the second). So that every provider gets the same rule, a
// repeated time means its first occurrence, and a skipped one is read with the offset from before
// the change, landing as far past the change as it was past it on the old clock.
func instant(d domain.Date, c domain.Clock, loc *time.Location) time.Time {
	if c >= endOfDay {
		d, c = d.AddDays(1), 0
	}
	wall := time.Date(d.Year, d.Month, d.Day, c.Hour(), c.Minute(), 0, 0, time.UTC)
	t := d.In(loc, c)
	// No two offset changes fall within a day of each other, so these are the offsets either side
	// of any change near t.
	_, before := t.Add(-12 * time.Hour).Zone()
	_, after := t.Add(12 * time.Hour).Zone()
	for _, off := range []int{before, after} {
		u := wall.Add(-time.Duration(off) * time.Second).In(loc)
		if _, o := u.Zone(); o == off {
			return u
		}
	}
	return wall.Add(-time.Duration(before) * time.Second).In(loc)
}

func exceptionsByDate(es []domain.Exception) map[domain.Date]domain.Exception {
	m := make(map[domain.Date]domain.Exception, len(es))
	for _, e := range es {
		// ValidateSchedule rejects duplicates; if one slips through, the first one listed wins.
		if _, dup := m[e.Date]; !dup {
			m[e.Date] = e
		}
	}
	return m
}

// location loads an IANA zone. The empty name and "Local" are refused because time.LoadLocation
// would turn them into UTC or the server's own zone, silently shifting every slot.
func location(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: %w", name, err)
	}
	return loc, nil
}

func checkLength(length time.Duration) error {
	if length < minLength {
		return domain.Invalid("invalid slot length", domain.FieldError{Field: "length", Message: "must be at least one minute"})
	}
	return nil
}

// mergeBusy sorts busy intervals and joins those that overlap or touch, so that overlaps can
// binary-search it.
func mergeBusy(busy []domain.Slot) []domain.Slot {
	out := make([]domain.Slot, 0, len(busy))
	for _, b := range busy {
		if b.End.After(b.Start) {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b domain.Slot) int { return a.Start.Compare(b.Start) })
	merged := out[:0]
	for _, b := range out {
		if n := len(merged); n > 0 && !b.Start.After(merged[n-1].End) {
			if b.End.After(merged[n-1].End) {
				merged[n-1].End = b.End
			}
			continue
		}
		merged = append(merged, b)
	}
	return merged
}

// overlaps reports whether [s, e) meets any of the merged, disjoint busy intervals.
func overlaps(busy []domain.Slot, s, e time.Time) bool {
	i := sort.Search(len(busy), func(i int) bool { return busy[i].End.After(s) })
	return i < len(busy) && busy[i].Start.Before(e)
}

type namedRange struct {
	field string
	domain.TimeRange
}

func checkRange(fe *domain.FieldErrors, field string, start, end domain.Clock) bool {
	ok := true
	if start < 0 || start > endOfDay {
		fe.Add(field+".start", "must be between 00:00 and 24:00")
		ok = false
	}
	if end < 0 || end > endOfDay {
		fe.Add(field+".end", "must be between 00:00 and 24:00")
		ok = false
	}
	if ok && start >= end {
		fe.Add(field+".end", "must be after start")
		ok = false
	}
	return ok
}

// checkOverlaps reports each range that starts before an earlier-starting one has ended.
func checkOverlaps(fe *domain.FieldErrors, ranges []namedRange) {
	ranges = slices.Clone(ranges)
	slices.SortStableFunc(ranges, func(a, b namedRange) int { return int(a.Start) - int(b.Start) })
	if len(ranges) == 0 {
		return
	}
	// Comparing with the latest-ending range so far catches one long range covering several.
	latest := ranges[0]
	for _, r := range ranges[1:] {
		if r.Start < latest.End {
			fe.Add(r.field, "overlaps %s", latest.field)
		}
		if r.End > latest.End {
			latest = r
		}
	}
}

func validDate(d domain.Date) bool {
	return domain.DateOf(time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)) == d
}
