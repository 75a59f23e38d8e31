package availability

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/domain"
)

// ts parses an RFC 3339 instant; the offset in the literal is part of what the tests assert.
func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

func hm(s string) domain.Clock {
	c, err := domain.ParseClock(s)
	if err != nil {
		panic(err)
	}
	return c
}

func date(s string) domain.Date {
	d, err := domain.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// everyDay is a schedule open the same hours all week.
func everyDay(tz, start, end string) domain.Schedule {
	s := domain.Schedule{TimeZone: tz}
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		s.Weekly = append(s.Weekly, domain.WorkingHours{Weekday: wd, Start: hm(start), End: hm(end)})
	}
	return s
}

func weekdays(tz, start, end string) domain.Schedule {
	s := domain.Schedule{TimeZone: tz}
	for wd := time.Monday; wd <= time.Friday; wd++ {
		s.Weekly = append(s.Weekly, domain.WorkingHours{Weekday: wd, Start: hm(start), End: hm(end)})
	}
	return s
}

// format renders slots as "start/end" in RFC 3339, so a test pins both the instants and the
// offsets they are expressed in.
func format(slots []domain.Slot) []string {
	out := make([]string, 0, len(slots))
	for _, s := range slots {
		out = append(out, s.Start.Format(time.RFC3339)+"/"+s.End.Format(time.RFC3339))
	}
	return out
}

func TestSlots(t *testing.T) {
	// 2026-03-02 is a Monday.
	monday := weekdays("America/New_York", "09:00", "12:00")

	tests := []struct {
		name     string
		sched    domain.Schedule
		length   time.Duration
		from, to string
		now      string
		busy     [][2]string
		want     []string
	}{
		{
			name:   "plain weekday",
			sched:  monday,
			length: time.Hour,
			from:   "2026-03-02T00:00:00-05:00",
			to:     "2026-03-03T00:00:00-05:00",
			want: []string{
				"2026-03-02T09:00:00-05:00/2026-03-02T10:00:00-05:00",
				"2026-03-02T10:00:00-05:00/2026-03-02T11:00:00-05:00",
				"2026-03-02T11:00:00-05:00/2026-03-02T12:00:00-05:00",
			},
		},
		{
			name:   "no weekly hours at the weekend",
			sched:  monday,
			length: time.Hour,
			from:   "2026-03-07T00:00:00-05:00",
			to:     "2026-03-09T00:00:00-05:00",
			want:   []string{},
		},
		{
			name:   "several days in order, query given in UTC",
			sched:  weekdays("America/New_York", "09:00", "10:00"),
			length: 30 * time.Minute,
			from:   "2026-03-05T00:00:00Z",
			to:     "2026-03-10T00:00:00Z",
			want: []string{
				"2026-03-05T09:00:00-05:00/2026-03-05T09:30:00-05:00",
				"2026-03-05T09:30:00-05:00/2026-03-05T10:00:00-05:00",
				"2026-03-06T09:00:00-05:00/2026-03-06T09:30:00-05:00",
				"2026-03-06T09:30:00-05:00/2026-03-06T10:00:00-05:00",
				"2026-03-09T09:00:00-04:00/2026-03-09T09:30:00-04:00",
				"2026-03-09T09:30:00-04:00/2026-03-09T10:00:00-04:00",
			},
		},
		{
			name:   "US spring forward: 01:00-04:00 is two real hours",
			sched:  everyDay("America/New_York", "01:00", "04:00"),
			length: time.Hour,
			from:   "2026-03-08T00:00:00-05:00",
			to:     "2026-03-08T12:00:00-04:00",
			want: []string{
				"2026-03-08T01:00:00-05:00/2026-03-08T03:00:00-04:00",
				"2026-03-08T03:00:00-04:00/2026-03-08T04:00:00-04:00",
			},
		},
		{
			name:   "US fall back: 01:00-04:00 is four real hours",
			sched:  everyDay("America/New_York", "01:00", "04:00"),
			length: time.Hour,
			from:   "2026-11-01T00:00:00-04:00",
			to:     "2026-11-01T12:00:00-05:00",
			want: []string{
				"2026-11-01T01:00:00-04:00/2026-11-01T01:00:00-05:00",
				"2026-11-01T01:00:00-05:00/2026-11-01T02:00:00-05:00",
				"2026-11-01T02:00:00-05:00/2026-11-01T03:00:00-05:00",
				"2026-11-01T03:00:00-05:00/2026-11-01T04:00:00-05:00",
			},
		},
		{
			name: "US spring forward: overnight shift spanning the change",
			sched: domain.Schedule{TimeZone: "America/New_York", Weekly: []domain.WorkingHours{
				{Weekday: time.Saturday, Start: hm("22:00"), End: hm("24:00")},
				{Weekday: time.Sunday, Start: hm("00:00"), End: hm("06:00")},
			}},
			length: 2 * time.Hour,
			from:   "2026-03-07T20:00:00-05:00",
			to:     "2026-03-08T12:00:00-04:00",
			want: []string{
				"2026-03-07T22:00:00-05:00/2026-03-08T00:00:00-05:00",
				"2026-03-08T00:00:00-05:00/2026-03-08T03:00:00-04:00",
				"2026-03-08T03:00:00-04:00/2026-03-08T05:00:00-04:00",
			},
		},
		{
			name: "US fall back: overnight shift spanning the change",
			sched: domain.Schedule{TimeZone: "America/New_York", Weekly: []domain.WorkingHours{
				{Weekday: time.Saturday, Start: hm("22:00"), End: hm("24:00")},
				{Weekday: time.Sunday, Start: hm("00:00"), End: hm("06:00")},
			}},
			length: 2 * time.Hour,
			from:   "2026-10-31T20:00:00-04:00",
			to:     "2026-11-01T12:00:00-05:00",
			want: []string{
				"2026-10-31T22:00:00-04:00/2026-11-01T00:00:00-04:00",
				"2026-11-01T00:00:00-04:00/2026-11-01T01:00:00-05:00",
				"2026-11-01T01:00:00-05:00/2026-11-01T03:00:00-05:00",
				"2026-11-01T03:00:00-05:00/2026-11-01T05:00:00-05:00",
			},
		},
		{
			name:   "Berlin spring forward: 01:00-04:00 is two real hours",
			sched:  everyDay("Europe/Berlin", "01:00", "04:00"),
			length: time.Hour,
			from:   "2026-03-29T00:00:00+01:00",
			to:     "2026-03-30T00:00:00+02:00",
			want: []string{
				"2026-03-29T01:00:00+01:00/2026-03-29T03:00:00+02:00",
				"2026-03-29T03:00:00+02:00/2026-03-29T04:00:00+02:00",
			},
		},
		{
			name:   "Berlin fall back: 01:00-04:00 is four real hours",
			sched:  everyDay("Europe/Berlin", "01:00", "04:00"),
			length: time.Hour,
			from:   "2026-10-25T00:00:00+02:00",
			to:     "2026-10-26T00:00:00+01:00",
			want: []string{
				"2026-10-25T01:00:00+02:00/2026-10-25T02:00:00+02:00",
				"2026-10-25T02:00:00+02:00/2026-10-25T02:00:00+01:00",
				"2026-10-25T02:00:00+01:00/2026-10-25T03:00:00+01:00",
				"2026-10-25T03:00:00+01:00/2026-10-25T04:00:00+01:00",
			},
		},
		{
			// time.Date on its own would put this at the second 02:00 in Berlin.
			name:   "Berlin fall back: a shift starting in the repeated hour starts at its first occurrence",
			sched:  everyDay("Europe/Berlin", "02:00", "04:00"),
			length: time.Hour,
			from:   "2026-10-25T00:00:00+02:00",
			to:     "2026-10-26T00:00:00+01:00",
			want: []string{
				"2026-10-25T02:00:00+02:00/2026-10-25T02:00:00+01:00",
				"2026-10-25T02:00:00+01:00/2026-10-25T03:00:00+01:00",
				"2026-10-25T03:00:00+01:00/2026-10-25T04:00:00+01:00",
			},
		},
		{
			// time.Date on its own would put this at 01:30 EST, before the shift's wall time.
			name:   "US spring forward: a shift starting in the skipped hour starts as far past the change",
			sched:  everyDay("America/New_York", "02:30", "05:00"),
			length: 30 * time.Minute,
			from:   "2026-03-08T00:00:00-05:00",
			to:     "2026-03-09T00:00:00-04:00",
			want: []string{
				"2026-03-08T03:30:00-04:00/2026-03-08T04:00:00-04:00",
				"2026-03-08T04:00:00-04:00/2026-03-08T04:30:00-04:00",
				"2026-03-08T04:30:00-04:00/2026-03-08T05:00:00-04:00",
			},
		},
		{
			name: "exception closed day has no slots, next day normal",
			sched: func() domain.Schedule {
				s := monday
				s.Exceptions = []domain.Exception{{Date: date("2026-03-02"), Closed: true}}
				return s
			}(),
			length: time.Hour,
			from:   "2026-03-02T00:00:00-05:00",
			to:     "2026-03-04T00:00:00-05:00",
			want: []string{
				"2026-03-03T09:00:00-05:00/2026-03-03T10:00:00-05:00",
				"2026-03-03T10:00:00-05:00/2026-03-03T11:00:00-05:00",
				"2026-03-03T11:00:00-05:00/2026-03-03T12:00:00-05:00",
			},
		},
		{
			name: "exception with no hours is closed",
			sched: func() domain.Schedule {
				s := monday
				s.Exceptions = []domain.Exception{{Date: date("2026-03-02")}}
				return s
			}(),
			length: time.Hour,
			from:   "2026-03-02T00:00:00-05:00",
			to:     "2026-03-03T00:00:00-05:00",
			want:   []string{},
		},
		{
			name: "exception hours replace the weekly ones",
			sched: func() domain.Schedule {
				s := monday
				s.Exceptions = []domain.Exception{{Date: date("2026-03-02"), Hours: []domain.TimeRange{
					{Start: hm("16:00"), End: hm("17:00")},
					{Start: hm("13:00"), End: hm("14:00")},
				}}}
				return s
			}(),
			length: 30 * time.Minute,
			from:   "2026-03-02T00:00:00-05:00",
			to:     "2026-03-03T00:00:00-05:00",
			want: []string{
				"2026-03-02T13:00:00-05:00/2026-03-02T13:30:00-05:00",
				"2026-03-02T13:30:00-05:00/2026-03-02T14:00:00-05:00",
				"2026-03-02T16:00:00-05:00/2026-03-02T16:30:00-05:00",
				"2026-03-02T16:30:00-05:00/2026-03-02T17:00:00-05:00",
			},
		},
		{
			name: "exception on a day with no weekly hours opens it",
			sched: func() domain.Schedule {
				s := monday
				s.Exceptions = []domain.Exception{{Date: date("2026-03-07"), Hours: []domain.TimeRange{{Start: hm("10:00"), End: hm("11:00")}}}}
				return s
			}(),
			length: time.Hour,
			from:   "2026-03-07T00:00:00-05:00",
			to:     "2026-03-08T00:00:00-05:00",
			want:   []string{"2026-03-07T10:00:00-05:00/2026-03-07T11:00:00-05:00"},
		},
		{
			name:   "booking mid-day removes exactly the overlapping slots",
			sched:  weekdays("America/New_York", "09:00", "14:00"),
			length: time.Hour,
			from:   "2026-03-02T00:00:00-05:00",
			to:     "2026-03-03T00:00:00-05:00",
			busy:   [][2]string{{"2026-03-02T10:30:00-05:00", "2026-03-02T11:15:00-05:00"}},
			want: []string{
				"2026-03-02T09:00:00-05:00/2026-03-02T10:00:00-05:00",
				"2026-03-02T12:00:00-05:00/2026-03-02T13:00:00-05:00",
				"2026-03-02T13:00:00-05:00/2026-03-02T14:00:00-05:00",
			},
		},
		{
			name:   "slot ending at a booking's start and slot starting at its end are free",
			sched:  monday,
			length: time.Hour,
			from:   "2026-03-02T00:00:00-05:00",
			to:     "2026-03-03T00:00:00-05:00",
			busy:   [][2]string{{"2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"}}, // 10:00-11:00 local
			want: []string{
				"2026-03-02T09:00:00-05:00/2026-03-02T10:00:00-05:00",
				"2026-03-02T11:00:00-05:00/2026-03-02T12:00:00-05:00",
			},
		},
		{
			name:   "unsorted, overlapping and empty busy intervals",
			sched:  weekdays("America/New_York", "09:00", "17:00"),
			length: time.Hour,
			from:   "2026-03-02T00:00:00-05:00",
			to:     "2026-03-03T00:00:00-05:00",
			busy: [][2]string{
				{"2026-03-02T15:00:00-05:00", "2026-03-02T15:30:00-05:00"},
				{"2026-03-02T09:00:00-05:00", "2026-03-02T11:00:00-05:00"},
				{"2026-03-02T09:30:00-05:00", "2026-03-02T10:30:00-05:00"},
				{"2026-03-02T13:00:00-05:00", "2026-03-02T13:00:00-05:00"},
			},
			want: []string{
				"2026-03-02T11:00:00-05:00/2026-03-02T12:00:00-05:00",
				"2026-03-02T12:00:00-05:00/2026-03-02T13:00:00-05:00",
				"2026-03-02T13:00:00-05:00/2026-03-02T14:00:00-05:00",
				"2026-03-02T14:00:00-05:00/2026-03-02T15:00:00-05:00",
				"2026-03-02T16:00:00-05:00/2026-03-02T17:00:00-05:00",
			},
		},
		{
			name:   "service does not fit the end of the shift",
			sched:  weekdays("America/New_York", "09:00", "10:45"),
			length: 30 * time.Minute,
			from:   "2026-03-02T00:00:00-05:00",
			to:     "2026-03-03T00:00:00-05:00",
			want: []string{
				"2026-03-02T09:00:00-05:00/2026-03-02T09:30:00-05:00",
				"2026-03-02T09:30:00-05:00/2026-03-02T10:00:00-05:00",
				"2026-03-02T10:00:00-05:00/2026-03-02T10:30:00-05:00",
			},
		},
		{
			name:   "slots starting before now are excluded",
			sched:  monday,
			length: time.Hour,
			from:   "2026-03-02T00:00:00-05:00",
			to:     "2026-03-03T00:00:00-05:00",
			now:    "2026-03-02T09:01:00-05:00",
			want: []string{
				"2026-03-02T10:00:00-05:00/2026-03-02T11:00:00-05:00",
				"2026-03-02T11:00:00-05:00/2026-03-02T12:00:00-05:00",
			},
		},
		{
			name:   "slot starting exactly now is offered",
			sched:  monday,
			length: time.Hour,
			from:   "2026-03-02T00:00:00-05:00",
			to:     "2026-03-03T00:00:00-05:00",
			now:    "2026-03-02T15:00:00Z",
			want: []string{
				"2026-03-02T10:00:00-05:00/2026-03-02T11:00:00-05:00",
				"2026-03-02T11:00:00-05:00/2026-03-02T12:00:00-05:00",
			},
		},
		{
			name:   "from and to cut the day",
			sched:  weekdays("America/New_York", "09:00", "17:00"),
			length: time.Hour,
			from:   "2026-03-02T10:30:00-05:00",
			to:     "2026-03-02T14:00:00-05:00",
			want: []string{
				"2026-03-02T11:00:00-05:00/2026-03-02T12:00:00-05:00",
				"2026-03-02T12:00:00-05:00/2026-03-02T13:00:00-05:00",
				"2026-03-02T13:00:00-05:00/2026-03-02T14:00:00-05:00",
			},
		},
		{
			name:   "slot running past to is left out",
			sched:  weekdays("America/New_York", "09:00", "17:00"),
			length: time.Hour,
			from:   "2026-03-02T09:00:00-05:00",
			to:     "2026-03-02T10:59:00-05:00",
			want:   []string{"2026-03-02T09:00:00-05:00/2026-03-02T10:00:00-05:00"},
		},
		{
			name:   "shift to 24:00, from given in another zone",
			sched:  everyDay("Asia/Tokyo", "22:00", "24:00"),
			length: time.Hour,
			from:   "2026-03-02T12:00:00Z",
			to:     "2026-03-02T15:00:00Z",
			want: []string{
				"2026-03-02T22:00:00+09:00/2026-03-02T23:00:00+09:00",
				"2026-03-02T23:00:00+09:00/2026-03-03T00:00:00+09:00",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var now time.Time
			if tc.now != "" {
				now = ts(t, tc.now)
			}
			var busy []domain.Slot
			for _, b := range tc.busy {
				busy = append(busy, domain.Slot{Start: ts(t, b[0]), End: ts(t, b[1])})
			}
			got, err := Slots(tc.sched, tc.length, ts(t, tc.from), ts(t, tc.to), now, busy)
			require.NoError(t, err)
			require.NotNil(t, got, "an empty answer must marshal as [], not null")
			require.Equal(t, tc.want, format(got))
			for _, s := range got {
				require.Equal(t, tc.length, s.End.Sub(s.Start), "a slot is always length of real time")
				require.Equal(t, tc.sched.TimeZone, s.Start.Location().String())
				require.Equal(t, tc.sched.TimeZone, s.End.Location().String())
			}
		})
	}
}

func TestSlotsDayAfterDSTChange(t *testing.T) {
	tests := []struct {
		name, tz, day string
		wantUTC       []string
	}{
		{"New York after spring forward", "America/New_York", "2026-03-09", []string{"2026-03-09T13:00:00Z", "2026-03-09T14:00:00Z", "2026-03-09T15:00:00Z"}},
		{"New York before spring forward", "America/New_York", "2026-03-06", []string{"2026-03-06T14:00:00Z", "2026-03-06T15:00:00Z", "2026-03-06T16:00:00Z"}},
		{"New York after fall back", "America/New_York", "2026-11-02", []string{"2026-11-02T14:00:00Z", "2026-11-02T15:00:00Z", "2026-11-02T16:00:00Z"}},
		{"Berlin after spring forward", "Europe/Berlin", "2026-03-30", []string{"2026-03-30T07:00:00Z", "2026-03-30T08:00:00Z", "2026-03-30T09:00:00Z"}},
		{"Berlin after fall back", "Europe/Berlin", "2026-10-26", []string{"2026-10-26T08:00:00Z", "2026-10-26T09:00:00Z", "2026-10-26T10:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from := ts(t, tc.day+"T00:00:00Z").Add(-24 * time.Hour)
			got, err := Slots(weekdays(tc.tz, "09:00", "12:00"), time.Hour, from, from.Add(72*time.Hour), time.Time{}, nil)
			require.NoError(t, err)
			var utc []string
			for _, s := range got {
				if domain.DateOf(s.Start) == date(tc.day) {
					utc = append(utc, s.Start.UTC().Format(time.RFC3339))
				}
			}
			require.Equal(t, tc.wantUTC, utc)
		})
	}
}

func TestSlotsProvidersInDifferentZones(t *testing.T) {
	// 2026-03-10 falls in the weeks when the US has changed its clocks and Europe has not, so the
	// two 09:00s are eight hours apart rather than the usual nine.
	from, to := ts(t, "2026-03-10T00:00:00Z"), ts(t, "2026-03-11T12:00:00Z")
	berlin, err := Slots(weekdays("Europe/Berlin", "09:00", "10:00"), time.Hour, from, to, time.Time{}, nil)
	require.NoError(t, err)
	la, err := Slots(weekdays("America/Los_Angeles", "09:00", "10:00"), time.Hour, from, to, time.Time{}, nil)
	require.NoError(t, err)

	require.Equal(t, []string{
		"2026-03-10T09:00:00+01:00/2026-03-10T10:00:00+01:00",
		"2026-03-11T09:00:00+01:00/2026-03-11T10:00:00+01:00",
	}, format(berlin))
	require.Equal(t, []string{"2026-03-10T09:00:00-07:00/2026-03-10T10:00:00-07:00"}, format(la))
	require.True(t, berlin[0].Start.Equal(ts(t, "2026-03-10T08:00:00Z")))
	require.True(t, la[0].Start.Equal(ts(t, "2026-03-10T16:00:00Z")))
	require.Equal(t, 8*time.Hour, la[0].Start.Sub(berlin[0].Start))
}

func TestSlotsErrors(t *testing.T) {
	sched := weekdays("America/New_York", "09:00", "17:00")
	from := ts(t, "2026-03-02T00:00:00Z")
	tests := []struct {
		name      string
		sched     domain.Schedule
		length    time.Duration
		to        time.Time
		wantField string // empty: not a caller error
	}{
		{"zero length", sched, 0, from.Add(time.Hour), "length"},
		{"negative length", sched, -time.Hour, from.Add(time.Hour), "length"},
		{"sub-minute length", sched, time.Second, from.Add(time.Hour), "length"},
		{"to equals from", sched, time.Hour, from, "to"},
		{"to before from", sched, time.Hour, from.Add(-time.Hour), "to"},
		{"range over 62 days", sched, time.Hour, from.Add(MaxRange + time.Nanosecond), "to"},
		{"unknown zone", domain.Schedule{TimeZone: "Mars/Olympus_Mons"}, time.Hour, from.Add(time.Hour), ""},
		{"empty zone", domain.Schedule{}, time.Hour, from.Add(time.Hour), ""},
		{"Local zone", domain.Schedule{TimeZone: "Local"}, time.Hour, from.Add(time.Hour), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Slots(tc.sched, tc.length, from, tc.to, time.Time{}, nil)
			require.Error(t, err)
			require.Nil(t, got)
			if tc.wantField == "" {
				require.False(t, domain.IsKind(err, domain.KindInvalid))
				return
			}
			var de *domain.Error
			require.ErrorAs(t, err, &de)
			require.Equal(t, domain.KindInvalid, de.Kind)
			require.Len(t, de.Fields, 1)
			require.Equal(t, tc.wantField, de.Fields[0].Field)
		})
	}

	t.Run("exactly 62 days is allowed", func(t *testing.T) {
		_, err := Slots(sched, time.Hour, from, from.Add(MaxRange), time.Time{}, nil)
		require.NoError(t, err)
	})
	t.Run("range message", func(t *testing.T) {
		_, err := Slots(sched, time.Hour, from, from.Add(63*24*time.Hour), time.Time{}, nil)
		var de *domain.Error
		require.ErrorAs(t, err, &de)
		require.Equal(t, "range may span at most 62 days", de.Fields[0].Message)
	})
}

func TestOffered(t *testing.T) {
	sched := weekdays("America/New_York", "09:00", "10:45")
	sched.Exceptions = []domain.Exception{
		{Date: date("2026-03-03"), Closed: true},
		{Date: date("2026-03-04"), Hours: []domain.TimeRange{{Start: hm("13:00"), End: hm("14:00")}}},
	}
	dst := everyDay("America/New_York", "01:00", "04:00")

	tests := []struct {
		name   string
		sched  domain.Schedule
		length time.Duration
		start  string
		want   bool
	}{
		{"first slot", sched, 30 * time.Minute, "2026-03-02T09:00:00-05:00", true},
		{"on grid, given in UTC", sched, 30 * time.Minute, "2026-03-02T14:30:00Z", true},
		{"last slot that fits", sched, 30 * time.Minute, "2026-03-02T10:00:00-05:00", true},
		{"off grid by 15 minutes", sched, 30 * time.Minute, "2026-03-02T09:15:00-05:00", false},
		{"off grid by a second", sched, 30 * time.Minute, "2026-03-02T09:00:01-05:00", false},
		{"would run past the shift", sched, 30 * time.Minute, "2026-03-02T10:30:00-05:00", false},
		{"before hours", sched, 30 * time.Minute, "2026-03-02T08:30:00-05:00", false},
		{"after hours", sched, 30 * time.Minute, "2026-03-02T11:00:00-05:00", false},
		{"weekend", sched, 30 * time.Minute, "2026-03-07T09:00:00-05:00", false},
		{"closed exception day", sched, 30 * time.Minute, "2026-03-03T09:00:00-05:00", false},
		{"exception hours replace weekly", sched, 30 * time.Minute, "2026-03-04T09:00:00-05:00", false},
		{"within exception hours", sched, 30 * time.Minute, "2026-03-04T13:30:00-05:00", true},
		{"grid depends on length", sched, 45 * time.Minute, "2026-03-02T09:45:00-05:00", true},
		{"grid depends on length, off", sched, 45 * time.Minute, "2026-03-02T09:30:00-05:00", false},
		{"same wall time in the wrong zone", sched, 30 * time.Minute, "2026-03-02T09:00:00Z", false},
		{"spring forward, second slot", dst, time.Hour, "2026-03-08T03:00:00-04:00", true},
		{"spring forward, first slot", dst, time.Hour, "2026-03-08T01:00:00-05:00", true},
		{"spring forward, no third slot", dst, time.Hour, "2026-03-08T04:00:00-04:00", false},
		{"spring forward, off the real-time grid", dst, time.Hour, "2026-03-08T03:30:00-04:00", false},
		{"fall back, first 01:00", dst, time.Hour, "2026-11-01T01:00:00-04:00", true},
		{"fall back, second 01:00", dst, time.Hour, "2026-11-01T01:00:00-05:00", true},
		{"fall back, last slot", dst, time.Hour, "2026-11-01T03:00:00-05:00", true},
		{"fall back, ends past the shift", dst, time.Hour, "2026-11-01T04:00:00-05:00", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Offered(tc.sched, tc.length, ts(t, tc.start))
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}

	t.Run("errors", func(t *testing.T) {
		_, err := Offered(sched, 0, ts(t, "2026-03-02T09:00:00-05:00"))
		require.True(t, domain.IsKind(err, domain.KindInvalid))
		_, err = Offered(domain.Schedule{TimeZone: "Nowhere/Special"}, time.Hour, ts(t, "2026-03-02T09:00:00-05:00"))
		require.Error(t, err)
	})
}

// Offered is what bookings are checked against and Slots is what clients are shown, so they
// must agree on every instant, including around daylight-saving changes.
func TestOfferedAgreesWithSlots(t *testing.T) {
	scheds := []domain.Schedule{
		everyDay("America/New_York", "01:00", "04:00"),
		everyDay("America/New_York", "02:30", "24:00"),
		everyDay("Europe/Berlin", "00:00", "03:00"),
		everyDay("Europe/Berlin", "02:00", "24:00"),
		everyDay("Australia/Lord_Howe", "01:00", "03:00"), // changes by half an hour
	}
	windows := [][2]string{
		{"2026-03-07T00:00:00Z", "2026-03-10T00:00:00Z"},
		{"2026-10-31T00:00:00Z", "2026-11-03T00:00:00Z"},
		{"2026-03-28T00:00:00Z", "2026-03-31T00:00:00Z"},
		{"2026-10-24T00:00:00Z", "2026-10-27T00:00:00Z"},
		{"2026-04-04T00:00:00Z", "2026-04-07T00:00:00Z"},
	}
	for _, sched := range scheds {
		for _, length := range []time.Duration{15 * time.Minute, 45 * time.Minute, time.Hour} {
			for _, w := range windows {
				from, to := ts(t, w[0]), ts(t, w[1])
				slots, err := Slots(sched, length, from, to, time.Time{}, nil)
				require.NoError(t, err)
				starts := map[time.Time]bool{}
				for _, s := range slots {
					starts[s.Start.UTC()] = true
				}
				// Only look where Slots had room for a whole slot.
				for at := from; !at.Add(length).After(to); at = at.Add(15 * time.Minute) {
					got, err := Offered(sched, length, at)
					require.NoError(t, err)
					require.Equal(t, starts[at.UTC()], got, "%s %s %s", sched.TimeZone, length, at)
				}
			}
		}
	}
}

func TestValidateSchedule(t *testing.T) {
	valid := domain.Schedule{
		TimeZone: "Europe/Berlin",
		Weekly: []domain.WorkingHours{
			{Weekday: time.Monday, Start: hm("13:00"), End: hm("17:00")},
			{Weekday: time.Monday, Start: hm("09:00"), End: hm("13:00")}, // touching is fine
			{Weekday: time.Tuesday, Start: hm("00:00"), End: hm("24:00")},
		},
		Exceptions: []domain.Exception{
			{Date: date("2026-12-25"), Closed: true},
			{Date: date("2026-12-24"), Hours: []domain.TimeRange{{Start: hm("09:00"), End: hm("12:00")}}},
		},
	}
	require.NoError(t, ValidateSchedule(valid))
	require.NoError(t, ValidateSchedule(domain.Schedule{TimeZone: "UTC"}))

	with := func(f func(*domain.Schedule)) domain.Schedule {
		s := valid
		s.Weekly = append([]domain.WorkingHours(nil), valid.Weekly...)
		s.Exceptions = append([]domain.Exception(nil), valid.Exceptions...)
		f(&s)
		return s
	}
	tests := []struct {
		name  string
		sched domain.Schedule
		want  []string // "field: message fragment"
	}{
		{"empty zone", with(func(s *domain.Schedule) { s.TimeZone = "" }), []string{"time_zone: required"}},
		{"unknown zone", with(func(s *domain.Schedule) { s.TimeZone = "Europe/Atlantis" }), []string{"time_zone: unknown"}},
		{"Local zone", with(func(s *domain.Schedule) { s.TimeZone = "Local" }), []string{"time_zone: unknown"}},
		{"weekday too big", with(func(s *domain.Schedule) { s.Weekly[2].Weekday = 7 }), []string{"weekly[2].weekday: 0 (Sunday) to 6"}},
		{"weekday negative", with(func(s *domain.Schedule) { s.Weekly[0].Weekday = -1 }), []string{"weekly[0].weekday: 0 (Sunday) to 6"}},
		{"start equals end", with(func(s *domain.Schedule) { s.Weekly[2].End = s.Weekly[2].Start }), []string{"weekly[2].end: after start"}},
		{"start after end", with(func(s *domain.Schedule) { s.Weekly[0].Start, s.Weekly[0].End = hm("18:00"), hm("17:00") }), []string{"weekly[0].end: after start"}},
		{"end past 24:00", with(func(s *domain.Schedule) { s.Weekly[2].End = 24*60 + 1 }), []string{"weekly[2].end: between"}},
		{"start negative", with(func(s *domain.Schedule) { s.Weekly[2].Start = -1 }), []string{"weekly[2].start: between"}},
		{"overlap within a weekday", with(func(s *domain.Schedule) { s.Weekly[1].End = hm("13:30") }), []string{"weekly[0]: overlaps weekly[1]"}},
		{"one interval covering two", with(func(s *domain.Schedule) {
			s.Weekly = append(s.Weekly, domain.WorkingHours{Weekday: time.Monday, Start: hm("08:00"), End: hm("18:00")})
		}), []string{"weekly[1]: overlaps weekly[3]", "weekly[0]: overlaps weekly[3]"}},
		{"same hours on different weekdays are fine", with(func(s *domain.Schedule) {
			s.Weekly = append(s.Weekly, domain.WorkingHours{Weekday: time.Wednesday, Start: hm("09:00"), End: hm("13:00")})
		}), nil},
		{"duplicate exception date", with(func(s *domain.Schedule) {
			s.Exceptions = append(s.Exceptions, domain.Exception{Date: date("2026-12-25"), Hours: []domain.TimeRange{{Start: hm("10:00"), End: hm("11:00")}}})
		}), []string{"exceptions[2].date: exceptions[0]"}},
		{"closed with hours", with(func(s *domain.Schedule) {
			s.Exceptions[0].Hours = []domain.TimeRange{{Start: hm("10:00"), End: hm("11:00")}}
		}), []string{"exceptions[0].hours: closed"}},
		{"exception hours overlap", with(func(s *domain.Schedule) {
			s.Exceptions[1].Hours = []domain.TimeRange{{Start: hm("09:00"), End: hm("12:00")}, {Start: hm("11:00"), End: hm("13:00")}}
		}), []string{"exceptions[1].hours[1]: overlaps exceptions[1].hours[0]"}},
		{"exception hours bad range", with(func(s *domain.Schedule) {
			s.Exceptions[1].Hours = []domain.TimeRange{{Start: hm("12:00"), End: hm("09:00")}}
		}), []string{"exceptions[1].hours[0].end: after start"}},
		{"exception without a date", with(func(s *domain.Schedule) {
			s.Exceptions = append(s.Exceptions, domain.Exception{Closed: true})
		}), []string{"exceptions[2].date: not a valid date"}},
		{"several problems at once", with(func(s *domain.Schedule) {
			s.TimeZone = ""
			s.Weekly[2].Weekday = 9
			s.Exceptions[0].Hours = []domain.TimeRange{{Start: hm("10:00"), End: hm("11:00")}}
		}), []string{"time_zone: required", "weekly[2].weekday: 0 (Sunday)", "exceptions[0].hours: closed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateSchedule(tc.sched)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			var de *domain.Error
			require.ErrorAs(t, err, &de)
			require.Equal(t, domain.KindInvalid, de.Kind)
			require.Len(t, de.Fields, len(tc.want), "%v", de.Fields)
			for i, w := range tc.want {
				field, fragment, _ := strings.Cut(w, ": ")
				require.Equal(t, field, de.Fields[i].Field)
				require.Contains(t, de.Fields[i].Message, fragment)
			}
		})
	}
}
