package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twilio/twilio-go/client"
	twilioapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
)

// DefaultSMSTimeout bounds a send whose context has no deadline.
const DefaultSMSTimeout = 20 * time.Second

// SMS sends text messages through Twilio's Messages API using twilio-go.
type SMS struct {
	cfg            config.Twilio
	statusCallback string
	// base replaces scheme and host of every request when cfg.BaseURL is set (the sandbox).
	base    *url.URL
	baseErr error
	// transport is shared by all sends so connections are pooled.
	transport http.RoundTripper
}

// NewSMS builds a sender for the account in cfg. statusCallbackURL, when not empty, is given
// to Twilio for delivery reports. cfg.BaseURL, when set, sends every request there instead of
// api.twilio.com: the path and credentials stay exactly as twilio-go builds them.
func NewSMS(cfg config.Twilio, statusCallbackURL string) *SMS {
	s := &SMS{cfg: cfg, statusCallback: statusCallbackURL, transport: http.DefaultTransport.(*http.Transport).Clone()}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		switch {
		case err != nil:
			s.baseErr = fmt.Errorf("twilio base url %q: %w", cfg.BaseURL, err)
		case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			s.baseErr = fmt.Errorf("twilio base url %q: want an http(s) URL", cfg.BaseURL)
		default:
			s.base = u
		}
	}
	return s
}

// Send texts body to the E.164 number to and returns Twilio's message SID. Failures are
// *SendError values: IsPermanent reports refusals such as an invalid number (21211) or bad
// credentials; rate limiting, 5xx, timeouts and network errors are temporary.
func (s *SMS) Send(ctx context.Context, to, body string) (string, error) {
	if s.baseErr != nil {
		return "", &SendError{Channel: domain.ChannelSMS, Permanent: true, Err: s.baseErr}
	}
	if err := ctx.Err(); err != nil {
		return "", &SendError{Channel: domain.ChannelSMS, Err: err}
	}
	// twilio-go builds its requests on context.Background() and its API takes no context, so
	// each send gets its own client whose transport puts ctx on the request. Building one is
	// cheap: the connection pool lives in the shared s.transport. The timeout goes on ctx
	// rather than http.Client.Timeout, which the transport's context swap would discard.
	ctx, cancel := context.WithTimeout(ctx, DefaultSMSTimeout)
	defer cancel()
	api, rt := s.api(ctx)

	params := &twilioapi.CreateMessageParams{}
	params.SetTo(to)
	params.SetFrom(s.cfg.FromNumber)
	params.SetBody(body)
	if s.statusCallback != "" {
		params.SetStatusCallback(s.statusCallback)
	}
	msg, err := api.CreateMessage(params)
	if err != nil {
		return "", classifySMS(ctx, rt, err)
	}
	if msg.Sid == nil || *msg.Sid == "" {
		// Accepted but unidentifiable: without a SID nothing can match later delivery reports.
		return "", &SendError{Channel: domain.ChannelSMS, Status: rt.status(), Err: errors.New("twilio answered without a message sid")}
	}
	return *msg.Sid, nil
}

// api builds a twilio-go API client for one call, its requests carried on ctx by rt.
func (s *SMS) api(ctx context.Context) (*twilioapi.ApiService, *sendTransport) {
	rt := &sendTransport{ctx: ctx, base: s.base, next: s.transport}
	httpClient := &http.Client{
		Transport: rt,
		// Like twilio-go's default client: a redirect is an answer, not something to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c := &client.Client{Credentials: client.NewCredentials(s.cfg.AccountSID, s.cfg.AuthToken), HTTPClient: httpClient}
	c.SetAccountSid(s.cfg.AccountSID)
	return twilioapi.NewApiServiceWithClient(c), rt
}

// FindSent looks in the account's message log for messages to `to` with exactly this body,
// created at or after since, and returns their SIDs, oldest first. It settles a send whose
// answer never came back: if Twilio has the message, it was sent and must not be sent again.
// There can be more than one: a patient who cancels and books the same slot again gets the
// same confirmation text twice, so the caller decides which SID is whose.
func (s *SMS) FindSent(ctx context.Context, to, body string, since time.Time) ([]string, error) {
	if s.baseErr != nil {
		return nil, &SendError{Channel: domain.ChannelSMS, Permanent: true, Err: s.baseErr}
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultSMSTimeout)
	defer cancel()
	api, rt := s.api(ctx)
	params := &twilioapi.ListMessageParams{}
	params.SetTo(to)
	params.SetFrom(s.cfg.FromNumber)
	// Twilio filters sent dates by day; the exact instant is compared below.
	params.SetDateSentAfter(since.UTC().Truncate(24 * time.Hour))
	params.SetPageSize(100)
	params.SetLimit(500)
	msgs, err := api.ListMessage(params)
	if err != nil {
		return nil, classifySMS(ctx, rt, err)
	}
	// Twilio lists the newest first.
	var sids []string
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Sid == nil || m.Body == nil || *m.Body != body {
			continue
		}
		if created, err := time.Parse(time.RFC1123Z, deref(m.DateCreated)); err == nil && created.Before(since.Truncate(time.Second)) {
			continue
		}
		sids = append(sids, *m.Sid)
	}
	return sids, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// classifySMS decides whether a failed create is worth retrying. The HTTP status observed by
// the transport is trusted over twilio-go's error, which loses it when a proxy answers with
// a body that is not Twilio's JSON.
func classifySMS(ctx context.Context, rt *sendTransport, err error) error {
	se := &SendError{Channel: domain.ChannelSMS, Status: rt.status(), RetryAfter: rt.retryAfter(), Err: err}
	var rest *client.TwilioRestError
	if errors.As(err, &rest) {
		se.Code = rest.Code
		if se.Status == 0 {
			// twilio-go refused before sending, e.g. credentials with illegal characters.
			se.Status = rest.Status
		}
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		se.Err = fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	se.Permanent = permanentHTTPStatus(se.Status)
	return se
}

// permanentHTTPStatus: Twilio answers 400 for bad input (invalid number, unverified
// sender), 401/403 for credentials and 404 for a wrong account. 408 and 429 are the 4xx that
// mean "later".
func permanentHTTPStatus(status int) bool {
	return status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests
}

// sendTransport carries one send's context into twilio-go's requests, redirects them to the
// configured base URL and remembers the last response's status for classification.
type sendTransport struct {
	ctx  context.Context
	base *url.URL
	next http.RoundTripper

	mu     sync.Mutex
	code   int
	header http.Header
}

func (t *sendTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// RoundTrippers must not modify the request they are given.
	r := req.Clone(t.ctx)
	if t.base != nil {
		r.URL.Scheme = t.base.Scheme
		r.URL.Host = t.base.Host
		if p := strings.TrimRight(t.base.Path, "/"); p != "" {
			r.URL.Path = p + r.URL.Path
			r.URL.RawPath = ""
		}
		r.Host = ""
	}
	resp, err := t.next.RoundTrip(r)
	if err == nil {
		t.mu.Lock()
		t.code, t.header = resp.StatusCode, resp.Header
		t.mu.Unlock()
	}
	return resp, err
}

func (t *sendTransport) status() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.code
}

func (t *sendTransport) retryAfter() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.header == nil {
		return 0
	}
	v := t.header.Get("Retry-After")
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0)
	}
	return 0
}
