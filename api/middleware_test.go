package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func serve(t *testing.T, h http.Handler, method, path string, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func decodeProblem(t *testing.T, w *httptest.ResponseRecorder) problem {
	t.Helper()
	require.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	var p problem
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	require.Equal(t, w.Code, p.Status)
	return p
}

func TestRouterErrorsAreProblems(t *testing.T) {
	h := (&Server{Metrics: NewRegistry(nil)}).Handler()

	w := serve(t, h, http.MethodGet, "/v1/nowhere", "")
	require.Equal(t, http.StatusNotFound, w.Code)
	decodeProblem(t, w)

	w = serve(t, h, http.MethodDelete, "/v1/services", "")
	require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	decodeProblem(t, w)

	// No token on a protected route: 401 with a challenge, before anything else runs.
	w = serve(t, h, http.MethodPost, "/v1/bookings", `{}`)
	require.Equal(t, http.StatusUnauthorized, w.Code)
	require.Contains(t, w.Header().Get("WWW-Authenticate"), "Bearer")
	decodeProblem(t, w)
}

func TestRequestIDAndCORS(t *testing.T) {
	h := (&Server{Metrics: NewRegistry(nil)}).Handler()
	w := serve(t, h, http.MethodGet, "/healthz", "", "X-Request-Id", "abc-123", "Origin", "https://app.example")
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "abc-123", w.Header().Get("X-Request-Id"))
	require.Equal(t, "*", w.Header().Get("Access-Control-Allow-Origin"))

	// A preflight answers itself.
	w = serve(t, h, http.MethodOptions, "/v1/bookings", "", "Origin", "https://app.example", "Access-Control-Request-Method", "POST")
	require.Equal(t, http.StatusNoContent, w.Code)
	require.Contains(t, w.Header().Get("Access-Control-Allow-Headers"), "Authorization")
	require.Contains(t, w.Header().Get("Access-Control-Allow-Headers"), "Idempotency-Key")

	// A made-up id is replaced.
	w = serve(t, h, http.MethodGet, "/healthz", "", "X-Request-Id", "has spaces in it")
	require.NotEqual(t, "has spaces in it", w.Header().Get("X-Request-Id"))
	require.Len(t, w.Header().Get("X-Request-Id"), 16)
}

func TestPanicsBecomeProblems(t *testing.T) {
	h := chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }), withRequestID, withRecovery)
	w := serve(t, h, http.MethodGet, "/", "")
	require.Equal(t, http.StatusInternalServerError, w.Code)
	p := decodeProblem(t, w)
	require.NotContains(t, p.Detail, "boom", "internal text never reaches the client")
}

func TestMetricsScrape(t *testing.T) {
	srv := &Server{Metrics: NewRegistry(nil)}
	h := srv.Handler()
	w := serve(t, h, http.MethodGet, "/healthz", "")
	require.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
	// Metrics are served on the operations address only, never on the public port.
	w = serve(t, h, http.MethodGet, "/metrics", "")
	require.Equal(t, http.StatusNotFound, w.Code)
	w = serve(t, srv.OpsHandler(), http.MethodGet, "/metrics", "")
	require.Equal(t, http.StatusOK, w.Code)
	body := w.Body.String()
	require.Contains(t, body, `booking_http_requests_total{code="200",method="GET",route="/healthz"} 1`)
	require.Contains(t, body, "booking_http_request_duration_seconds_bucket")
}

// The bookings gauge asks the database at most once per bookingsCountTTL, however often it
// is scraped: a full count on every scrape is what made it expensive.
func TestBookingsGaugeIsCached(t *testing.T) {
	calls := 0
	reg := NewRegistry(func(context.Context) (map[string]int, error) {
		calls++
		return map[string]int{"held": calls}, nil
	})
	h := (&Server{Metrics: reg}).OpsHandler()
	for range 3 {
		w := serve(t, h, http.MethodGet, "/metrics", "")
		require.Contains(t, w.Body.String(), `booking_bookings{status="held"} 1`)
	}
	require.Equal(t, 1, calls)
}

func TestDecodeRefusesNUL(t *testing.T) {
	var req createBookingRequest
	r := httptest.NewRequest(http.MethodPost, "/v1/bookings", strings.NewReader(`{"provider_id":"p","service_id":"s","start":"2030-01-07T09:00:00Z","notes":"a\u0000b"}`))
	err := decode(httptest.NewRecorder(), r, &req, false)
	de := asDomainError(err)
	require.NotNil(t, de)
	require.Equal(t, "notes", de.Fields[0].Field)

	var sched scheduleRequest
	r = httptest.NewRequest(http.MethodPut, "/", strings.NewReader(`{"weekly":[],"exceptions":[{"date":"2030-01-01","closed":true,"hours":[]}],"x":1}`))
	require.Error(t, decode(httptest.NewRecorder(), r, &sched, false), "unknown field")
}
