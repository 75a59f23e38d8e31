package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MailLookup asks the relay's HTTP API whether it accepted a message with a given Message-ID.
// SMTP itself has no such question: a worker that dies between the relay's "250 OK" and
// writing that down cannot tell, on its retry, whether the patient already has the email.
// Twilio answers the same question for SMS (SMS.FindSent); this is its email twin.
//
// It speaks Mailpit's search API (GET /api/v1/search?query=message-id:…), which is what dev,
// the tests and `make chaos` relay through. A production relay with a message search API
// (SES, Postmark, Mailgun) needs its own FindSent of the same shape; without one the window
// stays open and a retry sends again (SMTP_LOOKUP_URL unset).
type MailLookup struct {
	base   string
	client *http.Client
}

// NewMailLookup builds a lookup against the API at baseURL (Mailpit's web address, such as
// http://127.0.0.1:8025).
func NewMailLookup(baseURL string) *MailLookup {
	return &MailLookup{base: strings.TrimRight(baseURL, "/"), client: &http.Client{Timeout: 10 * time.Second}}
}

// FindSent reports whether the relay holds a message with this Message-ID (angle brackets
// optional). An error means the relay could not be asked; the caller retries rather than
// guessing.
func (l *MailLookup) FindSent(ctx context.Context, messageID string) (bool, error) {
	id := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(messageID), "<"), ">")
	if id == "" {
		return false, fmt.Errorf("mail lookup: empty message id")
	}
	q := url.Values{"query": {`message-id:"` + id + `"`}, "limit": {"5"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.base+"/api/v1/search?"+q.Encode(), nil)
	if err != nil {
		return false, fmt.Errorf("mail lookup: %w", err)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("mail lookup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return false, fmt.Errorf("mail lookup: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var out struct {
		Messages []struct {
			MessageID string `json:"MessageID"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return false, fmt.Errorf("mail lookup: decode: %w", err)
	}
	// The search matches on words; only an exact id counts.
	for _, m := range out.Messages {
		if strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">") == id {
			return true, nil
		}
	}
	return false, nil
}
