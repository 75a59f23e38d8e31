package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"
)

// apiClient talks to the platform over HTTP as a client app would, and keeps at it through
// faults: a request that gets no answer, or a 5xx or 429, is sent again with the same
// Idempotency-Key until an answer comes or the budget runs out.
type apiClient struct {
	base   string
	hc     *http.Client
	budget time.Duration

	requests atomic.Int64
	retries  atomic.Int64
	gaveUp   atomic.Int64
}

func newAPIClient(base string, budget time.Duration) *apiClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &apiClient{base: base, budget: budget,
		// Longer than the API's own wait for Temporal (45 s), so its 503 arrives first.
		hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// errNoAnswer is a command whose outcome the client never learned.
var errNoAnswer = errors.New("no answer")

type answer struct {
	code int
	body []byte
}

func (a answer) decode(v any) error {
	if err := json.Unmarshal(a.body, v); err != nil {
		return fmt.Errorf("decode %d answer %q: %w", a.code, truncate(string(a.body), 200), err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// retryable is an answer that says nothing about the command: the API (or what it needs) is
// away or busy.
func retryable(code int) bool {
	return code >= 500 || code == http.StatusTooManyRequests
}

// do sends the request, retrying with the same key, and returns the first definitive answer.
func (c *apiClient) do(ctx context.Context, method, path, token string, body any, key string) (answer, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return answer{}, err
		}
	}
	deadline := time.Now().Add(c.budget)
	wait := 200 * time.Millisecond
	var last error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			c.retries.Add(1)
		}
		c.requests.Add(1)
		a, err := c.once(ctx, method, path, token, raw, key)
		if err == nil && !retryable(a.code) {
			return a, nil
		}
		if err != nil {
			last = err
		} else {
			last = fmt.Errorf("%d %s", a.code, truncate(string(a.body), 200))
		}
		if ctx.Err() != nil {
			c.gaveUp.Add(1)
			return answer{}, fmt.Errorf("%w: %s %s: %w", errNoAnswer, method, path, ctx.Err())
		}
		if time.Now().Add(wait).After(deadline) {
			c.gaveUp.Add(1)
			return answer{}, fmt.Errorf("%w: %s %s after %d attempts: %v", errNoAnswer, method, path, attempt+1, last)
		}
		// Jittered, so that clients that all lost the API at once do not come back in step.
		select {
		case <-ctx.Done():
		case <-time.After(wait/2 + rand.N(wait/2+1)):
		}
		wait = min(wait*2, 2*time.Second)
	}
}

func (c *apiClient) once(ctx context.Context, method, path, token string, raw []byte, key string) (answer, error) {
	var rd io.Reader
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return answer{}, err
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{code: resp.StatusCode, body: b}, nil
}

// getJSON reads a sandbox's or Mailpit's API (no retries beyond a few: they are not faulted
// while read, except Mailpit while it is down, which the caller waits out).
func getJSON(ctx context.Context, url string, out any) error {
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			last = err
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			last = err
			continue
		}
		if resp.StatusCode != http.StatusOK {
			last = fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, truncate(string(b), 200))
			continue
		}
		return json.Unmarshal(b, out)
	}
	return last
}

func postJSON(ctx context.Context, url string, body any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, truncate(string(b), 200))
	}
	return nil
}

// listSMS is every message the Twilio sandbox recorded.
func listSMS(ctx context.Context, sandboxURL string) ([]SMS, error) {
	var out struct {
		Messages []SMS `json:"messages"`
	}
	err := getJSON(ctx, sandboxURL+"/api/messages", &out)
	return out.Messages, err
}

// listMail is every message Mailpit holds, page by page.
func listMail(ctx context.Context, mailpitURL string) ([]Mail, error) {
	var all []Mail
	const page = 500
	for start := 0; ; start += page {
		var out struct {
			Total    int
			Messages []Mail
		}
		if err := getJSON(ctx, fmt.Sprintf("%s/api/v1/messages?start=%d&limit=%d", mailpitURL, start, page), &out); err != nil {
			return nil, err
		}
		all = append(all, out.Messages...)
		if len(out.Messages) < page || len(all) >= out.Total {
			return all, nil
		}
	}
}
