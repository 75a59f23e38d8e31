package twiliosandbox_test

import (
	"encoding/json"
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

	"github.com/clinicbook/booking/twiliosandbox"
)

const (
	sid   = "AC11111111111111111111111111111111"
	token = "abcdefabcdefabcdefabcdefabcdef12"
	from  = "+15005550006"
)

func start(t *testing.T, cfg twiliosandbox.Config) (*twiliosandbox.Server, string) {
	t.Helper()
	if cfg.AccountSID == "" {
		cfg.AccountSID, cfg.AuthToken, cfg.FromNumber = sid, token, from
	}
	cfg.StatusDelay = 5 * time.Millisecond
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.CallbackBackoff = 5 * time.Millisecond
	s := twiliosandbox.New(cfg)
	hs := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); hs.Close() })
	return s, hs.URL
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func do(t *testing.T, method, u string, form url.Values, user, pass string) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return send(t, req)
}

func postJSON(t *testing.T, u, body string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return send(t, req)
}

func send(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func messagesURL(base, account string) string {
	return base + "/2010-04-01/Accounts/" + account + "/Messages.json"
}

func TestCreateMessageReturnsTwilioResource(t *testing.T) {
	s, base := start(t, twiliosandbox.Config{})
	r := do(t, http.MethodPost, messagesURL(base, sid),
		url.Values{"To": {"+4915112345678"}, "From": {from}, "Body": {"Hello there"}}, sid, token)
	if r.status != http.StatusCreated {
		t.Fatalf("status %d, body %s", r.status, r.raw)
	}
	msgSID, _ := r.body["sid"].(string)
	if !regexp.MustCompile(`^SM[0-9a-f]{32}$`).MatchString(msgSID) {
		t.Errorf("sid %q is not SM + 32 hex digits", msgSID)
	}
	want := map[string]any{
		"account_sid": sid, "to": "+4915112345678", "from": from, "body": "Hello there",
		"status": "queued", "direction": "outbound-api", "num_segments": "1", "api_version": "2010-04-01",
		"uri": "/2010-04-01/Accounts/" + sid + "/Messages/" + msgSID + ".json",
	}
	for k, v := range want {
		if r.body[k] != v {
			t.Errorf("%s = %v, want %v", k, r.body[k], v)
		}
	}
	if _, err := time.Parse(time.RFC1123Z, r.body["date_created"].(string)); err != nil {
		t.Errorf("date_created is not RFC 2822: %v", err)
	}
	if _, ok := r.body["error_code"]; !ok {
		t.Error("error_code missing; Twilio sends it as null")
	}

	got, ok := s.Message(msgSID)
	if !ok || got.Body != "Hello there" || got.To != "+4915112345678" {
		t.Fatalf("recorded message = %+v, %v", got, ok)
	}

	// The status moves on without any callback configured, as it does at Twilio.
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := do(t, http.MethodGet, base+"/2010-04-01/Accounts/"+sid+"/Messages/"+msgSID+".json", nil, sid, token)
		if r.status != http.StatusOK {
			t.Fatalf("fetch: status %d %s", r.status, r.raw)
		}
		if r.body["status"] == "delivered" {
			if r.body["date_sent"] == nil {
				t.Error("delivered message without date_sent")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status still %v", r.body["status"])
		}
		time.Sleep(10 * time.Millisecond)
	}

	if r := do(t, http.MethodGet, base+"/2010-04-01/Accounts/"+sid+"/Messages/SM0000.json", nil, sid, token); r.status != http.StatusNotFound || r.body["code"] != float64(20404) {
		t.Errorf("unknown sid: status %d body %s", r.status, r.raw)
	}
	if r := do(t, http.MethodGet, base+"/2010-04-01/Accounts/"+sid+"/Messages/"+msgSID+".json", nil, sid, "wrong"); r.status != http.StatusUnauthorized {
		t.Errorf("fetch with a wrong token: status %d", r.status)
	}
}

func TestCreateMessageRefusals(t *testing.T) {
	s, base := start(t, twiliosandbox.Config{})
	good := url.Values{"To": {"+4915112345678"}, "From": {from}, "Body": {"hi"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vs := range good {
			f[key] = vs
		}
		f.Set(k, v)
		return f
	}
	cases := []struct {
		name       string
		url        string
		form       url.Values
		user, pass string
		status     int
		code       float64
		message    string
	}{
		{"no credentials", messagesURL(base, sid), good, "", "", 401, 20003, "Authenticate"},
		{"wrong token", messagesURL(base, sid), good, sid, "nope", 401, 20003, "Authenticate"},
		{"wrong sid", messagesURL(base, sid), good, "AC22222222222222222222222222222222", token, 401, 20003, "Authenticate"},
		{"path names another account", messagesURL(base, "AC22222222222222222222222222222222"), good, sid, token, 401, 20003, "Authenticate"},
		{"not E.164", messagesURL(base, sid), with("To", "015112345678"), sid, token, 400, 21211, "The 'To' number 015112345678 is not a valid phone number."},
		{"no To", messagesURL(base, sid), with("To", ""), sid, token, 400, 21604, ""},
		{"empty body", messagesURL(base, sid), with("Body", " "), sid, token, 400, 21602, ""},
		{"not our number", messagesURL(base, sid), with("From", "+15550001111"), sid, token, 400, 21606, ""},
		{"long body", messagesURL(base, sid), with("Body", strings.Repeat("x", 1601)), sid, token, 400, 21617, ""},
		{"bad callback", messagesURL(base, sid), with("StatusCallback", "/relative"), sid, token, 400, 21609, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, http.MethodPost, c.url, c.form, c.user, c.pass)
			if r.status != c.status || r.body["code"] != c.code || r.body["status"] != float64(c.status) {
				t.Fatalf("got %d %s, want status %d code %v", r.status, r.raw, c.status, c.code)
			}
			if c.message != "" && r.body["message"] != c.message {
				t.Errorf("message %q, want %q", r.body["message"], c.message)
			}
			if info, _ := r.body["more_info"].(string); !strings.HasPrefix(info, "https://www.twilio.com/docs/errors/") {
				t.Errorf("more_info %q", info)
			}
		})
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("%d refused messages recorded", n)
	}
}

// callbackSink records signed webhooks and checks their signature with twilio-go's validator.
type callbackSink struct {
	t      *testing.T
	mu     sync.Mutex
	got    []url.Values
	fails  int // answer 500 to this many requests first
	srv    *httptest.Server
	answer string
}

func newSink(t *testing.T, fails int) *callbackSink {
	k := &callbackSink{t: t, fails: fails, answer: "<Response/>"}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("callback form: %v", err)
		}
		params := map[string]string{}
		for key := range r.PostForm {
			params[key] = r.PostForm.Get(key)
		}
		v := client.NewRequestValidator(token)
		if !v.Validate(k.srv.URL+r.URL.RequestURI(), params, r.Header.Get("X-Twilio-Signature")) {
			t.Errorf("signature %q rejected by twilio-go for %v", r.Header.Get("X-Twilio-Signature"), params)
		}
		k.mu.Lock()
		defer k.mu.Unlock()
		k.got = append(k.got, r.PostForm)
		if k.fails > 0 {
			k.fails--
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, k.answer)
	}))
	t.Cleanup(k.srv.Close)
	return k
}

func (k *callbackSink) wait(n int) []url.Values {
	k.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		k.mu.Lock()
		got := append([]url.Values(nil), k.got...)
		k.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			k.t.Fatalf("got %d webhooks, want %d", len(got), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStatusCallbacksAreSignedAndRetried(t *testing.T) {
	s, base := start(t, twiliosandbox.Config{})
	sink := newSink(t, 1) // the first "sent" delivery fails and must be retried
	cb := sink.srv.URL + "/twilio/status?notification=42"
	r := do(t, http.MethodPost, messagesURL(base, sid),
		url.Values{"To": {"+4915112345678"}, "From": {from}, "Body": {"hi"}, "StatusCallback": {cb}}, sid, token)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	got := sink.wait(3)
	var statuses []string
	for _, p := range got {
		statuses = append(statuses, p.Get("MessageStatus"))
		if p.Get("MessageSid") != r.body["sid"] || p.Get("SmsSid") != r.body["sid"] || p.Get("AccountSid") != sid ||
			p.Get("To") != "+4915112345678" || p.Get("From") != from || p.Get("SmsStatus") != p.Get("MessageStatus") {
			t.Errorf("callback params %v", p)
		}
	}
	if strings.Join(statuses, ",") != "sent,sent,delivered" {
		t.Errorf("callback statuses %v, want sent (failed), sent, delivered", statuses)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, _ := s.Message(r.body["sid"].(string))
		if len(m.Callbacks) == 3 {
			if m.Callbacks[0].HTTPStatus != 500 || m.Callbacks[1].HTTPStatus != 200 || m.Callbacks[1].Attempt != 2 {
				t.Errorf("callback log %+v", m.Callbacks)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("callback log %+v", m.Callbacks)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCallbackRetriesAreBounded(t *testing.T) {
	s, base := start(t, twiliosandbox.Config{CallbackAttempts: 2, AccountSID: sid, AuthToken: token})
	sink := newSink(t, 100)
	r := do(t, http.MethodPost, messagesURL(base, sid),
		url.Values{"To": {"+4915112345678"}, "From": {from}, "Body": {"hi"}, "StatusCallback": {sink.srv.URL + "/status"}}, sid, token)
	sink.wait(4) // two attempts for sent, two for delivered
	time.Sleep(50 * time.Millisecond)
	if n := len(sink.wait(0)); n != 4 {
		t.Errorf("%d callback attempts, want 4", n)
	}
	if m, _ := s.Message(r.body["sid"].(string)); m.Status != "delivered" {
		t.Errorf("status %q: failed callbacks must not stop delivery", m.Status)
	}
}

func TestFaultInjection(t *testing.T) {
	s, base := start(t, twiliosandbox.Config{})
	create := func() response {
		return do(t, http.MethodPost, messagesURL(base, sid), url.Values{"To": {"+4915112345678"}, "From": {from}, "Body": {"hi"}}, sid, token)
	}
	if r := postJSON(t, base+"/api/fail", `{"count": 2, "mode": "500"}`); r.status != 200 || r.body["pending"] != float64(2) {
		t.Fatalf("fail: %d %s", r.status, r.raw)
	}
	if r := postJSON(t, base+"/api/fail", `{"count": 1, "mode": "429"}`); r.status != 200 {
		t.Fatalf("fail: %d %s", r.status, r.raw)
	}
	for range 2 {
		if r := create(); r.status != 500 || r.body["code"] != float64(20500) {
			t.Fatalf("want 500, got %d %s", r.status, r.raw)
		}
	}
	r := create()
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("want 429 with Retry-After, got %d %v", r.status, r.header)
	}
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("failed requests recorded %d messages", n)
	}
	if r := create(); r.status != 201 {
		t.Fatalf("after the faults: %d %s", r.status, r.raw)
	}

	// A timeout fault answers nothing; the client sees its own deadline or a dropped connection.
	if r := postJSON(t, base+"/api/fail", `{"count": 1, "mode": "timeout", "hold": "100ms"}`); r.status != 200 {
		t.Fatalf("fail: %d %s", r.status, r.raw)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, messagesURL(base, sid),
		strings.NewReader(url.Values{"To": {"+4915112345678"}, "From": {from}, "Body": {"hi"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(sid, token)
	start := time.Now()
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("timeout fault answered %s", resp.Status)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("connection dropped after %v, before the hold", d)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages, want only the one accepted", n)
	}

	for _, bad := range []string{`{"count": 1, "mode": "404"}`, `{"count": 0, "mode": "500"}`, `{"count": 1, "mode": "timeout", "hold": "soon"}`, `{"count": 1, "mode": "500", "extra": 1}`} {
		if r := postJSON(t, base+"/api/fail", bad); r.status != 400 {
			t.Errorf("%s: status %d", bad, r.status)
		}
	}

	postJSON(t, base+"/api/fail", `{"count": 5, "mode": "500"}`)
	if r := postJSON(t, base+"/api/reset", `{}`); r.status != 200 {
		t.Fatalf("reset: %d", r.status)
	}
	if len(s.Messages()) != 0 || s.PendingFaults() != 0 {
		t.Errorf("reset left %d messages and %d faults", len(s.Messages()), s.PendingFaults())
	}
}

func TestResetReleasesHeldRequest(t *testing.T) {
	s, base := start(t, twiliosandbox.Config{})
	if err := s.Fail(1, twiliosandbox.Fault{Mode: twiliosandbox.FailTimeout, Hold: time.Minute}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, messagesURL(base, sid), strings.NewReader("To=%2B4915112345678"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(sid, token)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for s.PendingFaults() != 0 {
		time.Sleep(time.Millisecond)
	}
	s.Reset()
	select {
	case err := <-done:
		if err == nil {
			t.Error("held request got an answer")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reset did not release the held request")
	}
}

func TestListAndIndex(t *testing.T) {
	_, base := start(t, twiliosandbox.Config{})
	for _, to := range []string{"+4915100000001", "+4915100000002"} {
		if r := do(t, http.MethodPost, messagesURL(base, sid), url.Values{"To": {to}, "From": {from}, "Body": {"<b>hi</b> " + to}}, sid, token); r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
	}
	var list struct{ Messages []twiliosandbox.Message }
	r := do(t, http.MethodGet, base+"/api/messages", nil, "", "")
	if err := json.Unmarshal([]byte(r.raw), &list); err != nil || len(list.Messages) != 2 {
		t.Fatalf("list: %v %s", err, r.raw)
	}
	if list.Messages[0].To != "+4915100000002" {
		t.Errorf("list is not newest first: %+v", list.Messages)
	}
	r = do(t, http.MethodGet, base+"/api/messages?to=%2B4915100000001", nil, "", "")
	if err := json.Unmarshal([]byte(r.raw), &list); err != nil || len(list.Messages) != 1 || list.Messages[0].To != "+4915100000001" {
		t.Errorf("filtered list: %v %s", err, r.raw)
	}

	r = do(t, http.MethodGet, base+"/", nil, "", "")
	if r.status != 200 || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("index: %d %s", r.status, r.header)
	}
	if !strings.Contains(r.raw, "&lt;b&gt;hi&lt;/b&gt;") || strings.Contains(r.raw, "<b>hi</b>") {
		t.Error("index does not show the escaped body")
	}
	if i, j := strings.Index(r.raw, "4915100000002"), strings.Index(r.raw, "4915100000001"); i < 0 || j < 0 || i > j {
		t.Error("index does not list both, newest first")
	}
}

func TestInbound(t *testing.T) {
	sink := newSink(t, 0)
	sink.answer = "<Response><Message>Thanks</Message></Response>"
	s, base := start(t, twiliosandbox.Config{AccountSID: sid, AuthToken: token, FromNumber: from, InboundURL: sink.srv.URL + "/v1/webhooks/twilio/inbound"})

	r := postJSON(t, base+"/api/inbound", `{"from": "+4915112345678", "body": "C"}`)
	if r.status != 200 || r.body["status"] != float64(200) || r.body["response"] != sink.answer {
		t.Fatalf("inbound: %d %s", r.status, r.raw)
	}
	p := sink.wait(1)[0]
	if p.Get("From") != "+4915112345678" || p.Get("To") != from || p.Get("Body") != "C" ||
		p.Get("AccountSid") != sid || p.Get("NumMedia") != "0" || !strings.HasPrefix(p.Get("MessageSid"), "SM") {
		t.Errorf("inbound params %v", p)
	}
	if log := s.InboundLog(); len(log) != 1 || log[0].Status != 200 {
		t.Errorf("inbound log %+v", log)
	}

	// An explicit To wins over the configured one.
	r = postJSON(t, base+"/api/inbound", `{"from": "+4915112345678", "body": "X", "to": "+15550001111"}`)
	if r.status != 200 || sink.wait(2)[1].Get("To") != "+15550001111" {
		t.Errorf("inbound with to: %d %s", r.status, r.raw)
	}

	// A URL in the request is refused: the sandbox signs what it posts, so it posts only to
	// the webhook it was configured with.
	other := newSink(t, 0)
	for _, bad := range []string{`{"from": "0151", "body": "C"}`, `{"from": "+4915112345678", "body": ""}`,
		`{"from": "+4915112345678", "body": "C", "url": "nowhere"}`, `{"from": "+4915112345678", "body": "C", "url": "` + other.srv.URL + `"}`} {
		if r := postJSON(t, base+"/api/inbound", bad); r.status != 400 {
			t.Errorf("%s: status %d", bad, r.status)
		}
	}
	other.mu.Lock()
	stray := len(other.got)
	other.mu.Unlock()
	if len(sink.wait(2)) != 2 || stray != 0 {
		t.Error("a refused request was posted somewhere")
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, base = start(t, twiliosandbox.Config{AccountSID: sid, AuthToken: token, FromNumber: from, InboundURL: closed.URL})
	if r := postJSON(t, base+"/api/inbound", `{"from": "+4915112345678", "body": "C"}`); r.status != http.StatusBadGateway || r.body["error"] == "" {
		t.Errorf("unreachable webhook: %d %s", r.status, r.raw)
	}
}

func TestSignatureMatchesTwilioGoValidator(t *testing.T) {
	params := url.Values{"To": {"+18005551212"}, "From": {"+14158675309"}, "Body": {"Ünïcode & spaces"}, "A": {""}}
	u := "https://example.com/hook?b=2&a=1"
	sig := twiliosandbox.Signature("12345", u, params)
	flat := map[string]string{}
	for k := range params {
		flat[k] = params.Get(k)
	}
	v := client.NewRequestValidator("12345")
	if !v.Validate(u, flat, sig) {
		t.Errorf("twilio-go rejects %q", sig)
	}
	if v.Validate(u+"&c=3", flat, sig) {
		t.Error("signature does not cover the URL")
	}
}
