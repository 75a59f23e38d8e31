package twiliosandbox

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// SignatureHeader carries Twilio's request signature on webhooks.
const SignatureHeader = "X-Twilio-Signature"

// Signature computes X-Twilio-Signature as Twilio does for form POSTs: base64 of the
// HMAC-SHA1, keyed with the auth token, of the full URL followed by every POST parameter as
// name+value, sorted by name (values of a repeated name in sorted order).
func Signature(authToken, fullURL string, params url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range slices.Sorted(maps.Keys(params)) {
		vs := slices.Clone(params[k])
		slices.Sort(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// progress moves a message through sent and delivered, reporting each step to its status
// callback. It runs on its own goroutine, counted by s.wg.
func (s *Server) progress(ctx context.Context, sid string) {
	defer s.wg.Done()
	for _, status := range []string{"sent", "delivered"} {
		if !sleep(ctx, s.cfg.StatusDelay) {
			return
		}
		s.mu.Lock()
		m := s.find(sid)
		if m == nil { // reset meanwhile
			s.mu.Unlock()
			return
		}
		now := time.Now().UTC()
		m.Status, m.DateUpdated = status, now
		if status == "sent" {
			m.DateSent = now
		}
		msg := m.snapshot()
		s.mu.Unlock()

		if msg.StatusCallback == "" {
			continue
		}
		params := url.Values{
			"MessageSid":    {msg.SID},
			"SmsSid":        {msg.SID},
			"AccountSid":    {msg.AccountSID},
			"From":          {msg.From},
			"To":            {msg.To},
			"MessageStatus": {status},
			"SmsStatus":     {status},
			"ApiVersion":    {apiVersion},
		}
		if msg.MessagingServiceSID != "" {
			params.Set("MessagingServiceSid", msg.MessagingServiceSID)
		}
		s.callback(ctx, msg, status, params)
	}
}

// callback posts one status callback, retrying network errors, 5xx, 408 and 429 with a
// doubling backoff, at most CallbackAttempts times. Other 4xx answers are final: the
// receiver has looked at the request and refused it.
func (s *Server) callback(ctx context.Context, msg Message, status string, params url.Values) {
	// Twilio sends the same token on every retry of one event so receivers can deduplicate.
	token := newSID("")
	backoff := s.cfg.CallbackBackoff
	for attempt := 1; attempt <= s.cfg.CallbackAttempts; attempt++ {
		code, err := s.post(ctx, msg.StatusCallback, params, token)
		rec := CallbackAttempt{Status: status, Attempt: attempt, At: time.Now().UTC(), HTTPStatus: code}
		if err != nil {
			rec.Error = err.Error()
		}
		s.mu.Lock()
		if m := s.find(msg.SID); m != nil {
			m.Callbacks = append(m.Callbacks, rec)
		}
		s.mu.Unlock()

		retry := err != nil || code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests
		if err == nil && code < 300 {
			s.log.Info("twilio sandbox status callback delivered", "sid", msg.SID, "status", status, "attempt", attempt)
			return
		}
		s.log.Warn("twilio sandbox status callback failed", "sid", msg.SID, "status", status,
			"attempt", attempt, "http_status", code, "error", err)
		if !retry || ctx.Err() != nil || attempt == s.cfg.CallbackAttempts || !sleep(ctx, backoff) {
			return
		}
		backoff *= 2
	}
}

// post sends a signed form POST and returns the response status.
func (s *Server) post(ctx context.Context, target string, params url.Values, idempotencyToken string) (int, error) {
	code, _, _, err := s.postForm(ctx, target, params, idempotencyToken)
	return code, err
}

// postForm sends a signed form POST and returns the status, the start of the body and its type.
func (s *Server) postForm(ctx context.Context, target string, params url.Values, idempotencyToken string) (int, string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(params.Encode()))
	if err != nil {
		return 0, "", "", fmt.Errorf("build request to %s: %w", target, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set(SignatureHeader, Signature(s.cfg.AuthToken, target, params))
	if idempotencyToken != "" {
		req.Header.Set("I-Twilio-Idempotency-Token", idempotencyToken)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", "", fmt.Errorf("post to %s: %w", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return resp.StatusCode, "", "", fmt.Errorf("read response from %s: %w", target, err)
	}
	return resp.StatusCode, string(body), resp.Header.Get("Content-Type"), nil
}

// sleep waits d, reporting false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
