package twiliosandbox_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clinicbook/booking/twiliosandbox"
)

// createRequest is a signed-in create-message request on ctx.
func createRequest(t *testing.T, ctx context.Context, base string, form url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, messagesURL(base, sid), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(sid, token)
	return req
}

func TestAcceptThenTimeoutRecordsTheMessageButNeverAnswers(t *testing.T) {
	s, base := start(t, twiliosandbox.Config{})
	sink := newSink(t, 0)
	if r := postJSON(t, base+"/api/fail", `{"count": 1, "mode": "accept-timeout", "hold": "300ms"}`); r.status != 200 || r.body["pending"] != float64(1) {
		t.Fatalf("fail: %d %s", r.status, r.raw)
	}

	form := url.Values{"To": {"+4915112345678"}, "From": {from}, "Body": {"held answer"}, "StatusCallback": {sink.srv.URL + "/status"}}
	type answer struct {
		err     error
		elapsed time.Duration
	}
	done := make(chan answer, 1)
	begin := time.Now()
	go func() {
		resp, err := http.DefaultClient.Do(createRequest(t, context.Background(), base, form))
		if err == nil {
			resp.Body.Close()
		}
		done <- answer{err, time.Since(begin)}
	}()

	// While the answer is held, Twilio already has the message: the account's message list
	// shows it, which is how a client that lost the answer finds out.
	deadline := time.Now().Add(5 * time.Second)
	for len(s.Messages()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the message was not recorded while its answer was held")
		}
		time.Sleep(5 * time.Millisecond)
	}
	list := do(t, http.MethodGet, messagesURL(base, sid)+"?To=%2B4915112345678", nil, sid, token)
	var page struct{ Messages []struct{ SID, Body string } }
	if err := json.Unmarshal([]byte(list.raw), &page); err != nil || len(page.Messages) != 1 || page.Messages[0].Body != "held answer" {
		t.Fatalf("list while held: %v %s", err, list.raw)
	}

	got := <-done
	if got.err == nil {
		t.Fatal("the accepted request got an answer")
	}
	if got.elapsed < 300*time.Millisecond {
		t.Errorf("connection dropped after %v, before the hold", got.elapsed)
	}

	// The message lives on as any other: sent, delivered, each reported to its callback.
	var statuses []string
	for _, p := range sink.wait(2) {
		if p.Get("MessageSid") != page.Messages[0].SID {
			t.Errorf("callback for %s, want %s", p.Get("MessageSid"), page.Messages[0].SID)
		}
		statuses = append(statuses, p.Get("MessageStatus"))
	}
	if strings.Join(statuses, ",") != "sent,delivered" {
		t.Errorf("callback statuses %v", statuses)
	}

	// The fault was used up: the next request is answered, and both messages stand.
	if r := do(t, http.MethodPost, messagesURL(base, sid), form, sid, token); r.status != http.StatusCreated {
		t.Fatalf("after the fault: %d %s", r.status, r.raw)
	}
	if n := len(s.Messages()); n != 2 {
		t.Errorf("%d messages, want 2", n)
	}
}

func TestAcceptThenTimeoutEndsWhenTheClientLeaves(t *testing.T) {
	s := twiliosandbox.New(twiliosandbox.Config{AccountSID: sid, AuthToken: token, FromNumber: from,
		StatusDelay: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	closed := make(chan struct{}, 1)
	hs := httptest.NewUnstartedServer(s)
	hs.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateClosed {
			closed <- struct{}{}
		}
	}
	hs.Start()
	t.Cleanup(func() { s.Close(); hs.Close() })
	if err := s.Fail(1, twiliosandbox.Fault{Mode: twiliosandbox.FailAcceptThenTimeout, Hold: time.Hour}); err != nil {
		t.Fatal(err)
	}

	// The client gives up long before the hold: it sees its own deadline, and the message
	// stands all the same.
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	resp, err := http.DefaultClient.Do(createRequest(t, ctx, hs.URL, url.Values{"To": {"+4915112345678"}, "From": {from}, "Body": {"hi"}}))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("held request answered %s", resp.Status)
	}
	if n := len(s.Messages()); n != 1 {
		t.Fatalf("%d messages, want the one accepted", n)
	}
	// The handler lets go when the client leaves, not an hour later: the server closes the
	// connection.
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the held request outlived its client")
	}
}

func TestAcceptThenTimeoutAnswersRefusals(t *testing.T) {
	s, base := start(t, twiliosandbox.Config{})
	if err := s.Fail(1, twiliosandbox.Fault{Mode: twiliosandbox.FailAcceptThenTimeout, Hold: time.Hour}); err != nil {
		t.Fatal(err)
	}
	// Nothing is accepted, so nothing is held: the refusal is answered and uses the fault up.
	r := do(t, http.MethodPost, messagesURL(base, sid), url.Values{"To": {"0151"}, "From": {from}, "Body": {"hi"}}, sid, token)
	if r.status != http.StatusBadRequest || r.body["code"] != float64(21211) {
		t.Fatalf("refused request: %d %s", r.status, r.raw)
	}
	if n, pending := len(s.Messages()), s.PendingFaults(); n != 0 || pending != 0 {
		t.Errorf("%d messages and %d faults after a refusal, want none", n, pending)
	}
}
