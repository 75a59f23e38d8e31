package notifytest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// MailAddress is a name and address as Mailpit reports them.
type MailAddress struct {
	Name    string
	Address string
}

// MailSummary is one entry of Mailpit's message list.
type MailSummary struct {
	ID          string
	MessageID   string
	Subject     string
	From        MailAddress
	To          []MailAddress
	Attachments int
	Created     time.Time
}

// Mail is one message as Mailpit parsed it.
type Mail struct {
	ID          string
	MessageID   string
	Subject     string
	From        MailAddress
	To          []MailAddress
	Date        time.Time
	Text        string
	HTML        string
	Attachments []MailAttachment
}

// MailAttachment describes one attachment; fetch its bytes with MailPart.
type MailAttachment struct {
	PartID      string
	FileName    string
	ContentType string
	Size        int
}

// ListMail returns the messages Mailpit holds, newest first.
func ListMail(t testing.TB, apiURL string) []MailSummary {
	t.Helper()
	var list struct{ Messages []MailSummary }
	if err := getJSON(t.Context(), apiURL+"/api/v1/messages?limit=500", &list); err != nil {
		t.Fatalf("notifytest: list mailpit messages: %v", err)
	}
	return list.Messages
}

// GetMail returns one message by Mailpit ID.
func GetMail(t testing.TB, apiURL, id string) Mail {
	t.Helper()
	var m Mail
	if err := getJSON(t.Context(), apiURL+"/api/v1/message/"+url.PathEscape(id), &m); err != nil {
		t.Fatalf("notifytest: get mailpit message %s: %v", id, err)
	}
	return m
}

// MailPart returns the decoded bytes of one part (an attachment) of a message.
func MailPart(t testing.TB, apiURL, id, partID string) []byte {
	t.Helper()
	body, err := get(t.Context(), apiURL+"/api/v1/message/"+url.PathEscape(id)+"/part/"+url.PathEscape(partID))
	if err != nil {
		t.Fatalf("notifytest: get part %s of mailpit message %s: %v", partID, id, err)
	}
	return body
}

// MailRaw returns the message source as Mailpit received it.
func MailRaw(t testing.TB, apiURL, id string) []byte {
	t.Helper()
	body, err := get(t.Context(), apiURL+"/api/v1/message/"+url.PathEscape(id)+"/raw")
	if err != nil {
		t.Fatalf("notifytest: get raw mailpit message %s: %v", id, err)
	}
	return body
}

// WaitForMail polls Mailpit until a message satisfies match, failing the test after timeout.
func WaitForMail(t testing.TB, apiURL string, timeout time.Duration, match func(MailSummary) bool) MailSummary {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, m := range ListMail(t, apiURL) {
			if match(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("notifytest: no matching mail in mailpit after %v", timeout)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func getJSON(ctx context.Context, u string, v any) error {
	body, err := get(ctx, u)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decode %s: %w", u, err)
	}
	return nil
}

func get(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, body)
	}
	return body, nil
}
