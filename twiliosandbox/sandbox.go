// Package twiliosandbox is a local stand-in for the part of Twilio's REST API the platform uses:
// creating and fetching SMS messages, status callbacks and inbound-SMS webhooks. The real
// twilio-go client talks to it with only its base URL and credentials changed, so dev and
// integration tests exercise the same code path as production, including Twilio's error
// bodies and request signatures. Faults (5xx, 429, hung requests) can be injected on demand.
package twiliosandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultTimeoutHold      = 30 * time.Second
	DefaultStatusDelay      = 200 * time.Millisecond
	DefaultCallbackAttempts = 4
	DefaultCallbackBackoff  = 250 * time.Millisecond
)

// Config is the sandbox's account and behaviour.
type Config struct {
	// AccountSID and AuthToken are the credentials clients must present; the auth token also
	// signs callbacks and inbound webhooks, exactly as Twilio does.
	AccountSID string
	AuthToken  string
	// FromNumber is the account's phone number. When set, messages from any other number are
	// refused (error 21606), as Twilio would; it is also the default To of inbound SMS.
	FromNumber string
	// InboundURL receives inbound-SMS webhooks posted through the sandbox's HTTP helper.
	InboundURL string

	// TimeoutHold is how long a "timeout" fault holds a request before dropping the connection.
	TimeoutHold time.Duration
	// StatusDelay is the pause before each status change (queued→sent→delivered).
	StatusDelay time.Duration
	// CallbackAttempts bounds the deliveries of one status callback; CallbackBackoff is the
	// first pause between them, doubled after each failure.
	CallbackAttempts int
	CallbackBackoff  time.Duration

	// HTTPClient posts callbacks and inbound webhooks; nil means one with a 10s timeout.
	HTTPClient *http.Client
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Message is one outbound message as the sandbox recorded it.
type Message struct {
	SID                 string            `json:"sid"`
	AccountSID          string            `json:"account_sid"`
	To                  string            `json:"to"`
	From                string            `json:"from"`
	Body                string            `json:"body"`
	MessagingServiceSID string            `json:"messaging_service_sid,omitempty"`
	Status              string            `json:"status"`
	StatusCallback      string            `json:"status_callback,omitempty"`
	NumSegments         int               `json:"num_segments"`
	DateCreated         time.Time         `json:"date_created"`
	DateUpdated         time.Time         `json:"date_updated"`
	DateSent            time.Time         `json:"date_sent,omitzero"`
	Callbacks           []CallbackAttempt `json:"callbacks,omitempty"`
}

// CallbackAttempt is one try at delivering a status callback.
type CallbackAttempt struct {
	Status     string    `json:"status"`
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	HTTPStatus int       `json:"http_status,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// Server is the sandbox. It is an http.Handler; Close stops its background deliveries.
type Server struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	mux    *http.ServeMux

	root       context.Context
	rootCancel context.CancelFunc
	wg         sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	messages []*Message
	inbound  []InboundResult
	faults   []Fault
	// window fails every request until windowUntil (FailFor).
	window      Fault
	windowUntil time.Time
	// gen is cancelled by Reset so that callbacks and held requests from before a reset
	// cannot leak into whatever runs after it.
	gen       context.Context
	genCancel context.CancelFunc
}

// New builds a sandbox; serve it with an http.Server or httptest.Server.
func New(cfg Config) *Server {
	if cfg.TimeoutHold <= 0 {
		cfg.TimeoutHold = DefaultTimeoutHold
	}
	if cfg.StatusDelay <= 0 {
		cfg.StatusDelay = DefaultStatusDelay
	}
	if cfg.CallbackAttempts <= 0 {
		cfg.CallbackAttempts = DefaultCallbackAttempts
	}
	if cfg.CallbackBackoff <= 0 {
		cfg.CallbackBackoff = DefaultCallbackBackoff
	}
	s := &Server{cfg: cfg, log: cfg.Logger, client: cfg.HTTPClient}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	s.root, s.rootCancel = context.WithCancel(context.Background())
	s.gen, s.genCancel = context.WithCancel(s.root)
	s.routes()
	return s
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /2010-04-01/Accounts/{AccountSid}/Messages.json", s.createMessage)
	s.mux.HandleFunc("GET /2010-04-01/Accounts/{AccountSid}/Messages.json", s.listAccountMessages)
	// ServeMux wildcards must be whole segments, so "{MessageSid}.json" is matched as one
	// segment and the suffix is checked by the handler.
	s.mux.HandleFunc("GET /2010-04-01/Accounts/{AccountSid}/Messages/{file}", s.fetchMessage)
	s.mux.HandleFunc("GET /api/messages", s.listMessages)
	s.mux.HandleFunc("POST /api/fail", s.postFail)
	s.mux.HandleFunc("POST /api/reset", s.postReset)
	s.mux.HandleFunc("POST /api/inbound", s.postInbound)
	s.mux.HandleFunc("GET /api/inbound", s.listInbound)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /{$}", s.index)
}

// ServeHTTP logs each request and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	// Deferred so that requests aborted by a timeout fault (which panic with
	// http.ErrAbortHandler) are logged too.
	defer func() {
		s.log.Debug("twilio sandbox request", "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "duration", time.Since(start))
	}()
	s.mux.ServeHTTP(rec, r)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Close cancels pending callbacks and held requests and waits for background work to end.
// The sandbox still answers requests afterwards but starts no new deliveries.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.rootCancel()
	s.wg.Wait()
}

// Messages returns every recorded outbound message, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.messages))
	for _, m := range s.messages {
		out = append(out, m.snapshot())
	}
	return out
}

// Message returns one recorded message by SID.
func (s *Server) Message(sid string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.find(sid); m != nil {
		return m.snapshot(), true
	}
	return Message{}, false
}

// InboundLog returns the inbound webhooks posted so far, oldest first.
func (s *Server) InboundLog() []InboundResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.inbound)
}

// Reset forgets all messages, inbound deliveries and pending faults, and cancels callbacks
// and held requests still in flight.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = nil
	s.inbound = nil
	s.faults = nil
	s.windowUntil = time.Time{}
	s.genCancel()
	s.gen, s.genCancel = context.WithCancel(s.root)
}

// find must be called with s.mu held.
func (s *Server) find(sid string) *Message {
	for _, m := range s.messages {
		if m.SID == sid {
			return m
		}
	}
	return nil
}

func (m *Message) snapshot() Message {
	c := *m
	c.Callbacks = slices.Clone(m.Callbacks)
	return c
}

// newSID returns a Twilio-shaped SID: a two-letter prefix and 32 hex digits.
func newSID(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return prefix + hex.EncodeToString(b)
}
