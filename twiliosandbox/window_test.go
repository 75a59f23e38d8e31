package twiliosandbox_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/clinicbook/booking/twiliosandbox"
)

// A fault window fails every send while it lasts, however many arrive, and then ends by
// itself: an outage of a while rather than a number of failed requests.
func TestFaultWindow(t *testing.T) {
	s, base := start(t, twiliosandbox.Config{})
	create := func() response {
		return do(t, http.MethodPost, messagesURL(base, sid), url.Values{"To": {"+4915112345678"}, "From": {from}, "Body": {"hi"}}, sid, token)
	}
	r := postJSON(t, base+"/api/fail", `{"mode": "500", "for": "400ms"}`)
	if r.status != 200 || r.body["until"] == nil {
		t.Fatalf("fail: %d %s", r.status, r.raw)
	}
	if s.WindowUntil().IsZero() {
		t.Fatal("no window open")
	}
	for range 5 {
		if r := create(); r.status != 500 {
			t.Fatalf("inside the window: %d %s", r.status, r.raw)
		}
	}
	time.Sleep(450 * time.Millisecond)
	if r := create(); r.status != 201 {
		t.Fatalf("after the window: %d %s", r.status, r.raw)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages recorded, want the one sent after the window", n)
	}
	if !s.WindowUntil().IsZero() {
		t.Error("window still open after its end")
	}

	// Queued faults come first; a reset closes the window.
	postJSON(t, base+"/api/fail", `{"mode": "429", "for": "1m"}`)
	postJSON(t, base+"/api/fail", `{"count": 1, "mode": "500"}`)
	if r := create(); r.status != 500 {
		t.Fatalf("queued fault: %d", r.status)
	}
	if r := create(); r.status != 429 {
		t.Fatalf("window fault: %d", r.status)
	}
	postJSON(t, base+"/api/reset", `{}`)
	if r := create(); r.status != 201 {
		t.Fatalf("after reset: %d %s", r.status, r.raw)
	}

	for _, bad := range []string{`{"mode": "500", "for": "soon"}`, `{"mode": "500", "for": "-1s"}`, `{"mode": "500", "for": "2h"}`,
		`{"count": 2, "mode": "500", "for": "1s"}`, `{"mode": "404", "for": "1s"}`} {
		if r := postJSON(t, base+"/api/fail", bad); r.status != 400 {
			t.Errorf("%s: status %d", bad, r.status)
		}
	}
}
