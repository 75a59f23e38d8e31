package notify_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/clinicbook/booking/notify"
	"github.com/clinicbook/booking/notify/notifytest"
	"github.com/clinicbook/booking/twiliosandbox"
)

const patientPhone = "+4915112345678"

func sandbox(t *testing.T) (*twiliosandbox.Server, string) {
	t.Helper()
	return notifytest.StartSandbox(t, notifytest.SandboxConfig())
}

type statusCallback struct {
	url       string
	params    map[string]string
	signature string
}

// callbackServer stands in for the platform's status-callback webhook.
func callbackServer(t *testing.T) (string, func(n int) []statusCallback) {
	t.Helper()
	var (
		mu  sync.Mutex
		got []statusCallback
	)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("callback form: %v", err)
		}
		params := map[string]string{}
		for k := range r.PostForm {
			params[k] = r.PostForm.Get(k)
		}
		mu.Lock()
		got = append(got, statusCallback{srv.URL + r.URL.RequestURI(), params, r.Header.Get("X-Twilio-Signature")})
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	wait := func(n int) []statusCallback {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			c := append([]statusCallback(nil), got...)
			mu.Unlock()
			if len(c) >= n {
				return c
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d status callbacks arrived, want %d", len(c), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return srv.URL + "/v1/webhooks/twilio/status?notification=n-1", wait
}

func sendError(t *testing.T, err error) *notify.SendError {
	t.Helper()
	var se *notify.SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *notify.SendError", err, err)
	}
	return se
}

func TestSMSSendThroughSandbox(t *testing.T) {
	srv, base := sandbox(t)
	cbURL, callbacks := callbackServer(t)
	sms := notify.NewSMS(notifytest.TwilioConfig(base), cbURL)

	sid, err := sms.Send(t.Context(), patientPhone, "Confirmed: Check-up with Dr. Weber")
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if !regexp.MustCompile(`^SM[0-9a-f]{32}$`).MatchString(sid) {
		t.Errorf("sid %q", sid)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("sandbox recorded %d messages", len(msgs))
	}
	m := msgs[0]
	if m.SID != sid || m.To != patientPhone || m.From != notifytest.FromNumber ||
		m.Body != "Confirmed: Check-up with Dr. Weber" || m.StatusCallback != cbURL {
		t.Errorf("recorded %+v", m)
	}

	got := callbacks(2)
	validator := client.NewRequestValidator(notifytest.AuthToken)
	for i, want := range []string{"sent", "delivered"} {
		c := got[i]
		if c.params["MessageStatus"] != want || c.params["SmsStatus"] != want || c.params["MessageSid"] != sid ||
			c.params["SmsSid"] != sid || c.params["AccountSid"] != notifytest.AccountSID ||
			c.params["To"] != patientPhone || c.params["From"] != notifytest.FromNumber {
			t.Errorf("callback %d: %v", i, c.params)
		}
		if c.url != cbURL {
			t.Errorf("callback %d went to %s, want %s", i, c.url, cbURL)
		}
		if !validator.Validate(c.url, c.params, c.signature) {
			t.Errorf("callback %d: twilio-go rejects signature %q", i, c.signature)
		}
		if validator.Validate(c.url, map[string]string{"MessageStatus": "delivered"}, c.signature) {
			t.Errorf("callback %d: signature does not cover the parameters", i)
		}
	}
	if bad := client.NewRequestValidator("another-token"); bad.Validate(got[0].url, got[0].params, got[0].signature) {
		t.Error("signature validates under another auth token")
	}
}

func TestSMSBaseURLWithPath(t *testing.T) {
	cfg := notifytest.SandboxConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv := twiliosandbox.New(cfg)
	// A sandbox behind a reverse proxy under /twilio.
	hs := httptest.NewServer(http.StripPrefix("/twilio", srv))
	t.Cleanup(func() { srv.Close(); hs.Close() })

	sms := notify.NewSMS(notifytest.TwilioConfig(hs.URL+"/twilio"), "")
	if _, err := sms.Send(t.Context(), patientPhone, "hi"); err != nil {
		t.Fatalf("send: %v", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages", n)
	}
}

func TestSMSTemporaryFailures(t *testing.T) {
	srv, base := sandbox(t)
	sms := notify.NewSMS(notifytest.TwilioConfig(base), "")

	if err := srv.Fail(1, twiliosandbox.Fault{Mode: twiliosandbox.FailServerError}); err != nil {
		t.Fatal(err)
	}
	_, err := sms.Send(t.Context(), patientPhone, "hi")
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("500: err = %v, want a temporary error", err)
	}
	if se := sendError(t, err); se.Status != 500 || se.Code != 20500 {
		t.Errorf("500: status %d code %d", se.Status, se.Code)
	}

	// Through the HTTP fault API, as a dev would script it.
	resp, err := http.Post(base+"/api/fail", "application/json", strings.NewReader(`{"count": 1, "mode": "429"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, err = sms.Send(t.Context(), patientPhone, "hi")
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("429: err = %v, want a temporary error", err)
	}
	if se := sendError(t, err); se.Status != 429 || notify.RetryAfter(err) != time.Second {
		t.Errorf("429: status %d retry after %v", se.Status, notify.RetryAfter(err))
	}

	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("sandbox recorded %d messages for failed sends", n)
	}
	// The faults are used up: the retry goes through.
	if _, err := sms.Send(t.Context(), patientPhone, "hi"); err != nil {
		t.Fatalf("retry: %v", err)
	}
}

func TestSMSTimeoutHonoursContext(t *testing.T) {
	srv, base := sandbox(t)
	sms := notify.NewSMS(notifytest.TwilioConfig(base), "")
	if err := srv.Fail(1, twiliosandbox.Fault{Mode: twiliosandbox.FailTimeout, Hold: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := sms.Send(ctx, patientPhone, "hi")
	elapsed := time.Since(start)
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
	}
	if elapsed > 5*time.Second {
		t.Errorf("send took %v despite a 300ms deadline", elapsed)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("sandbox recorded %d messages for a timed-out send", n)
	}

	cancelled, cancelNow := context.WithCancel(t.Context())
	cancelNow()
	if _, err := sms.Send(cancelled, patientPhone, "hi"); err == nil || notify.IsPermanent(err) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
}

func TestSMSPermanentFailures(t *testing.T) {
	srv, base := sandbox(t)

	_, err := notify.NewSMS(notifytest.TwilioConfig(base), "").Send(t.Context(), "0151 1234", "hi")
	if !notify.IsPermanent(err) {
		t.Fatalf("invalid number: err = %v, want permanent", err)
	}
	if se := sendError(t, err); se.Status != 400 || se.Code != 21211 {
		t.Errorf("invalid number: status %d code %d", se.Status, se.Code)
	}

	wrongToken := notifytest.TwilioConfig(base)
	wrongToken.AuthToken = "ffffffffffffffffffffffffffffffff"
	_, err = notify.NewSMS(wrongToken, "").Send(t.Context(), patientPhone, "hi")
	if !notify.IsPermanent(err) {
		t.Fatalf("wrong token: err = %v, want permanent", err)
	}
	if se := sendError(t, err); se.Status != 401 || se.Code != 20003 {
		t.Errorf("wrong token: status %d code %d", se.Status, se.Code)
	}

	wrongAccount := notifytest.TwilioConfig(base)
	wrongAccount.AccountSID = "AC99999999999999999999999999999999"
	if _, err := notify.NewSMS(wrongAccount, "").Send(t.Context(), patientPhone, "hi"); !notify.IsPermanent(err) {
		t.Errorf("wrong account: err = %v, want permanent", err)
	}

	if n := len(srv.Messages()); n != 0 {
		t.Errorf("sandbox recorded %d refused messages", n)
	}
}

func TestSMSNetworkErrorIsTemporary(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	_, err := notify.NewSMS(notifytest.TwilioConfig(dead.URL), "").Send(t.Context(), patientPhone, "hi")
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("connection refused: err = %v, want temporary", err)
	}

	// A proxy's HTML error page instead of Twilio JSON: the status still decides.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html>bad gateway</html>")
	}))
	t.Cleanup(proxy.Close)
	_, err = notify.NewSMS(notifytest.TwilioConfig(proxy.URL), "").Send(t.Context(), patientPhone, "hi")
	if err == nil || notify.IsPermanent(err) || sendError(t, err).Status != 502 {
		t.Fatalf("502 page: err = %v, want temporary with status 502", err)
	}
}

func TestSMSRequestShape(t *testing.T) {
	// What twilio-go puts on the wire, seen by a bare server: the path, basic auth and form.
	var got *http.Request
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got, form = r, r.PostForm
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"sid": "SM00000000000000000000000000000001", "status": "queued"}`)
	}))
	t.Cleanup(srv.Close)
	sid, err := notify.NewSMS(notifytest.TwilioConfig(srv.URL), "https://example.com/status").Send(t.Context(), patientPhone, "hi")
	if err != nil || sid != "SM00000000000000000000000000000001" {
		t.Fatalf("send: %q %v", sid, err)
	}
	user, pass, _ := got.BasicAuth()
	if got.URL.Path != "/2010-04-01/Accounts/"+notifytest.AccountSID+"/Messages.json" ||
		user != notifytest.AccountSID || pass != notifytest.AuthToken ||
		form.Get("To") != patientPhone || form.Get("From") != notifytest.FromNumber ||
		form.Get("Body") != "hi" || form.Get("StatusCallback") != "https://example.com/status" {
		t.Errorf("request %s %s auth %s form %v", got.Method, got.URL, user, form)
	}
	if !strings.HasPrefix(got.UserAgent(), "twilio-go/") {
		t.Errorf("user agent %q: not sent by twilio-go", got.UserAgent())
	}
}
