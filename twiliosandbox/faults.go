package twiliosandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// FailMode is how an injected fault answers a Messages.json request.
type FailMode string

const (
	// FailServerError answers 500 with a Twilio error body.
	FailServerError FailMode = "500"
	// FailRateLimited answers 429 with Retry-After.
	FailRateLimited FailMode = "429"
	// FailTimeout holds the request unanswered, then drops the connection.
	FailTimeout FailMode = "timeout"
	// FailAcceptThenTimeout accepts the message (it is recorded and moves on to sent and
	// delivered, with its status callbacks) but holds the answer, then drops the connection:
	// Twilio took the message and the client never heard. A request refused for bad input
	// or credentials is answered as usual.
	FailAcceptThenTimeout FailMode = "accept-timeout"
)

// Fault is one injected failure, consumed by one Messages.json request. A failed request is
// never recorded as a message, except under FailAcceptThenTimeout.
type Fault struct {
	Mode FailMode
	// Hold overrides Config.TimeoutHold for FailTimeout and FailAcceptThenTimeout.
	Hold time.Duration
}

// maxFaults keeps a typo in a script from queueing millions of faults.
const maxFaults = 1000

// maxWindow bounds a fault window (FailFor): an outage, not a sandbox that never recovers.
const maxWindow = time.Hour

func checkMode(m FailMode) error {
	switch m {
	case FailServerError, FailRateLimited, FailTimeout, FailAcceptThenTimeout:
		return nil
	}
	return fmt.Errorf("fault mode %q: want 500, 429, timeout or accept-timeout", m)
}

// Fail queues count faults of the given mode after any already queued.
func (s *Server) Fail(count int, f Fault) error {
	if err := checkMode(f.Mode); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if count < 1 || len(s.faults)+count > maxFaults {
		return fmt.Errorf("fault count %d: want 1 to %d pending in all", count, maxFaults)
	}
	for range count {
		s.faults = append(s.faults, f)
	}
	return nil
}

// FailFor makes every Messages.json request fail as f says for the next d: an outage of
// Twilio's edge for a while, however many requests arrive meanwhile (`make chaos` uses it).
// It replaces any window still open; queued faults (Fail) are consumed first.
func (s *Server) FailFor(d time.Duration, f Fault) error {
	if err := checkMode(f.Mode); err != nil {
		return err
	}
	if d <= 0 || d > maxWindow {
		return fmt.Errorf("fault window %v: want more than 0 and at most %v", d, maxWindow)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.window, s.windowUntil = f, time.Now().Add(d)
	return nil
}

// WindowUntil is when the fault window set by FailFor ends; the zero time when none is open.
func (s *Server) WindowUntil() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Now().Before(s.windowUntil) {
		return s.windowUntil
	}
	return time.Time{}
}

// PendingFaults is how many injected faults are still to be consumed.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults)
}

func (s *Server) takeFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		if time.Now().Before(s.windowUntil) {
			return s.window, true
		}
		return Fault{}, false
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	return f, true
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, f Fault) {
	s.log.Info("twilio sandbox injecting fault", "mode", f.Mode, "path", r.URL.Path)
	switch f.Mode {
	case FailRateLimited:
		w.Header().Set("Retry-After", "1")
		writeTwilioError(w, http.StatusTooManyRequests, codeTooManyRequests, "Too Many Requests")
	case FailTimeout, FailAcceptThenTimeout:
		s.hang(r, f)
	default:
		writeTwilioError(w, http.StatusInternalServerError, codeInternal, "Internal Server Error")
	}
}

// hang holds the request until the fault's hold ends, the client leaves or the sandbox is
// reset or closed, then drops the connection without an answer.
func (s *Server) hang(r *http.Request, f Fault) {
	hold := f.Hold
	if hold <= 0 {
		hold = s.cfg.TimeoutHold
	}
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	t := time.NewTimer(hold)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	case <-gen.Done():
	}
	// Dropping the connection without a response is what a hung upstream looks like to
	// the client; net/http treats this panic as a silent abort.
	panic(http.ErrAbortHandler)
}

type failRequest struct {
	Count int      `json:"count"`
	Mode  FailMode `json:"mode"`
	// Hold is a Go duration ("2s") overriding the configured hold of timeout and
	// accept-timeout faults.
	Hold string `json:"hold,omitempty"`
	// For is a Go duration ("60s"): instead of count faults, every request fails so for
	// that long (FailFor). Count must then be left out.
	For string `json:"for,omitempty"`
}

func (s *Server) postFail(w http.ResponseWriter, r *http.Request) {
	var req failRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	f := Fault{Mode: req.Mode}
	if req.Hold != "" {
		d, err := time.ParseDuration(req.Hold)
		if err != nil || d <= 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("hold %q: want a positive duration such as 2s", req.Hold)})
			return
		}
		f.Hold = d
	}
	if req.For != "" {
		d, err := time.ParseDuration(req.For)
		switch {
		case err != nil:
			err = fmt.Errorf("for %q: want a duration such as 60s", req.For)
		case req.Count != 0:
			err = fmt.Errorf("count and for: give one of them")
		default:
			err = s.FailFor(d, f)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"pending": s.PendingFaults(), "until": s.WindowUntil().UTC().Format(time.RFC3339Nano)})
		return
	}
	if err := s.Fail(req.Count, f); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"pending": s.PendingFaults()})
}

func (s *Server) postReset(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	writeJSON(w, http.StatusOK, map[string]any{"reset": true})
}

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}
