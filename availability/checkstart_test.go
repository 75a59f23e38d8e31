package availability

import (
	"testing"
	"time"

	"github.com/clinicbook/booking/domain"
)

func TestCheckStart(t *testing.T) {
	sched := domain.Schedule{TimeZone: "UTC", Weekly: []domain.WorkingHours{{Weekday: time.Wednesday, Start: 9 * 60, End: 17 * 60}}}
	now := time.Date(2030, 1, 7, 8, 0, 0, 0, time.UTC) // a Monday
	slot := time.Date(2030, 1, 9, 10, 0, 0, 0, time.UTC)
	for name, c := range map[string]struct {
		length time.Duration
		start  time.Time
		field  string
	}{
		"offered":       {30 * time.Minute, slot, ""},
		"past":          {30 * time.Minute, now.Add(-time.Hour), "start"},
		"no service":    {0, slot, "service_id"},
		"not a slot":    {30 * time.Minute, slot.Add(7 * time.Minute), "start"},
		"outside hours": {30 * time.Minute, slot.Add(8 * time.Hour), "start"},
	} {
		err := CheckStart(sched, c.length, c.start, now)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		de, ok := err.(*domain.Error)
		if !ok || de.Kind != domain.KindUnprocessable || len(de.Fields) != 1 || de.Fields[0].Field != c.field {
			t.Errorf("%s: got %v, want a refusal naming %s", name, err, c.field)
		}
	}
}
