package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/domain"
)

type problemBody struct {
	Status int `json:"status"`
	Errors []struct {
		Field string `json:"field"`
	} `json:"errors"`
}

func (pb problemBody) fields() []string {
	var out []string
	for _, e := range pb.Errors {
		out = append(out, e.Field)
	}
	return out
}

func TestCatalogAndSchedules(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	admin := p.adminLogin("admin@example.com")
	_, patient := p.patient("cat@example.com", "+15550008888")

	// Admins add services and providers; others may not.
	var svc domain.Service
	require.Equal(t, http.StatusCreated, p.do("POST", "/v1/services", admin, map[string]any{"name": "Long visit", "duration_minutes": 60}, &svc))
	require.Equal(t, 60, svc.DurationMinutes)
	require.Equal(t, http.StatusForbidden, p.do("POST", "/v1/services", patient, map[string]any{"name": "X", "duration_minutes": 30}, nil))
	var bad problemBody
	require.Equal(t, http.StatusBadRequest, p.do("POST", "/v1/services", admin, map[string]any{"name": "", "duration_minutes": 7}, &bad))
	require.ElementsMatch(t, []string{"name", "duration_minutes"}, bad.fields())

	var doc domain.Provider
	require.Equal(t, http.StatusCreated, p.do("POST", "/v1/providers", admin, map[string]any{
		"name": "Dr. New", "specialty": "Cardiology", "time_zone": "America/Los_Angeles",
		"email": "dr.new@example.com", "password": "correct-horse-1"}, &doc))
	require.Equal(t, http.StatusBadRequest, p.do("POST", "/v1/providers", admin, map[string]any{"name": "Dr. Nowhere", "time_zone": "Mars/Base"}, &bad))
	require.Equal(t, []string{"time_zone"}, bad.fields())

	var listed struct{ Providers []domain.Provider }
	require.Equal(t, http.StatusOK, p.do("GET", "/v1/providers", "", nil, &listed))
	require.Len(t, listed.Providers, 2)
	var one domain.Provider
	require.Equal(t, http.StatusOK, p.do("GET", "/v1/providers/"+doc.ID, "", nil, &one))
	require.Equal(t, "America/Los_Angeles", one.TimeZone)
	require.Equal(t, http.StatusNotFound, p.do("GET", "/v1/providers/nope", "", nil, nil))

	// The doctor sets their own hours: Mondays 09:00-12:00, and a Monday closed.
	doctor := p.login("dr.new@example.com", "correct-horse-1")
	loc, err := time.LoadLocation("America/Los_Angeles")
	require.NoError(t, err)
	monday := time.Now().In(loc).AddDate(0, 0, 1)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, 1)
	}
	closed := monday.AddDate(0, 0, 7)
	schedule := map[string]any{
		"weekly":     []map[string]any{{"weekday": 1, "start": "09:00", "end": "12:00"}},
		"exceptions": []map[string]any{{"date": closed.Format(time.DateOnly), "closed": true}},
	}
	require.Equal(t, http.StatusOK, p.do("PUT", "/v1/providers/"+doc.ID+"/schedule", doctor, schedule, nil))
	require.Equal(t, http.StatusForbidden, p.do("PUT", "/v1/providers/"+doc.ID+"/schedule", patient, schedule, nil))
	require.Equal(t, http.StatusForbidden, p.do("PUT", "/v1/providers/"+p.provider.ID+"/schedule", doctor, schedule, nil))
	require.Equal(t, http.StatusBadRequest, p.do("PUT", "/v1/providers/"+doc.ID+"/schedule", admin, map[string]any{
		"weekly": []map[string]any{{"weekday": 1, "start": "12:00", "end": "09:00"}}}, &bad))
	require.Equal(t, []string{"weekly[0].end"}, bad.fields())

	// Three one-hour slots on the open Monday, none on the closed one, at Los Angeles' 09:00.
	avail := func(from, to time.Time) (int, []domain.Slot) {
		var out struct{ Slots []domain.Slot }
		q := fmt.Sprintf("/v1/providers/%s/availability?service_id=%s&from=%s&to=%s", doc.ID, svc.ID,
			from.Format(time.RFC3339), to.Format(time.RFC3339))
		return p.do("GET", q, "", nil, &out), out.Slots
	}
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc) }
	status, slots := avail(day(monday), day(monday).AddDate(0, 0, 1))
	require.Equal(t, http.StatusOK, status)
	require.Len(t, slots, 3)
	require.True(t, slots[0].Start.Equal(time.Date(monday.Year(), monday.Month(), monday.Day(), 9, 0, 0, 0, loc)))
	status, slots = avail(day(closed), day(closed).AddDate(0, 0, 1))
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, slots)

	// Bad queries are named.
	for q, field := range map[string]string{
		"?from=2030-01-01T00:00:00Z":               "service_id",
		"?service_id=" + svc.ID + "&from=tomorrow": "from",
		"?service_id=nope":                         "service_id",
		"?service_id=" + svc.ID + "&from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z": "to",
		"?service_id=" + svc.ID + "&from=2030-01-01T00:00:00Z&to=2030-06-01T00:00:00Z": "to",
	} {
		var pb problemBody
		require.Equal(t, http.StatusBadRequest, p.do("GET", "/v1/providers/"+doc.ID+"/availability"+q, "", nil, &pb), q)
		require.Equal(t, []string{field}, pb.fields(), q)
	}
}
