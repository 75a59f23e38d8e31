package twiliosandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// InboundSMS is a text "from a patient" to post to the platform's inbound webhook.
type InboundSMS struct {
	From string `json:"from"`
	Body string `json:"body"`
	// To defaults to Config.FromNumber.
	To string `json:"to,omitempty"`
	// URL defaults to Config.InboundURL. Only Go callers (tests) may set it: the HTTP
	// helper posts to the configured URL alone, so the sandbox cannot be made to send
	// signed requests wherever a caller likes.
	URL string `json:"-"`
}

// InboundResult is what the webhook answered.
type InboundResult struct {
	MessageSID  string    `json:"message_sid"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	Body        string    `json:"body"`
	URL         string    `json:"url"`
	At          time.Time `json:"at"`
	Status      int       `json:"status"`
	Response    string    `json:"response"`
	ContentType string    `json:"content_type,omitempty"`
	Error       string    `json:"error,omitempty"`
}

// ErrInvalidInbound marks an InboundSMS that cannot be sent, as opposed to a webhook that failed.
var ErrInvalidInbound = errors.New("invalid inbound sms")

// SendInbound posts a signed inbound-SMS webhook, as Twilio does when a text arrives at the
// account's number, and records the answer. An error means no answer was received.
func (s *Server) SendInbound(ctx context.Context, in InboundSMS) (InboundResult, error) {
	if in.To == "" {
		in.To = s.cfg.FromNumber
	}
	if in.URL == "" {
		in.URL = s.cfg.InboundURL
	}
	switch {
	case !e164.MatchString(in.From):
		return InboundResult{}, fmt.Errorf("%w: from %q is not an E.164 number", ErrInvalidInbound, in.From)
	case in.To == "":
		return InboundResult{}, fmt.Errorf("%w: no to number given and none configured", ErrInvalidInbound)
	case strings.TrimSpace(in.Body) == "":
		return InboundResult{}, fmt.Errorf("%w: body is empty", ErrInvalidInbound)
	case !absoluteHTTPURL(in.URL):
		return InboundResult{}, fmt.Errorf("%w: webhook url %q is not an http(s) URL", ErrInvalidInbound, in.URL)
	}
	sid := newSID("SM")
	params := url.Values{
		"MessageSid":    {sid},
		"SmsMessageSid": {sid},
		"SmsSid":        {sid},
		"AccountSid":    {s.cfg.AccountSID},
		"From":          {in.From},
		"To":            {in.To},
		"Body":          {in.Body},
		"NumMedia":      {"0"},
		"NumSegments":   {fmt.Sprint(segments(in.Body))},
		"SmsStatus":     {"received"},
		"ApiVersion":    {apiVersion},
	}
	res := InboundResult{MessageSID: sid, From: in.From, To: in.To, Body: in.Body, URL: in.URL, At: time.Now().UTC()}
	code, body, ctype, err := s.postForm(ctx, in.URL, params, newSID(""))
	res.Status, res.Response, res.ContentType = code, body, ctype
	if err != nil {
		res.Error = err.Error()
	}
	s.mu.Lock()
	s.inbound = append(s.inbound, res)
	s.mu.Unlock()
	s.log.Info("twilio sandbox posted inbound sms", "sid", sid, "from", in.From, "url", in.URL, "status", code, "error", err)
	return res, err
}

func (s *Server) postInbound(w http.ResponseWriter, r *http.Request) {
	var in InboundSMS
	if err := decodeJSON(w, r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	res, err := s.SendInbound(r.Context(), in)
	switch {
	case errors.Is(err, ErrInvalidInbound):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusBadGateway, res)
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

func (s *Server) listInbound(w http.ResponseWriter, _ *http.Request) {
	log := s.InboundLog()
	slices.Reverse(log)
	writeJSON(w, http.StatusOK, map[string]any{"inbound": log})
}
