package twiliosandbox

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
)

const apiVersion = "2010-04-01"

// Twilio error codes the sandbox answers with; the messages follow Twilio's wording.
const (
	codeAuthenticate      = 20003
	codeNotFound          = 20404
	codeTooManyRequests   = 20429
	codeInternal          = 20500
	codeInvalidTo         = 21211
	codeBodyRequired      = 21602
	codeFromRequired      = 21603
	codeToRequired        = 21604
	codeFromNotOnAccount  = 21606
	codeInvalidCallback   = 21609
	codeBodyTooLong       = 21617
	maxBodyChars          = 1600
	maxRequestBody        = 64 << 10
	rfc2822               = time.RFC1123Z
	twilioErrorsDocPrefix = "https://www.twilio.com/docs/errors/"
)

// e164 is Twilio's notion of a valid phone number: '+', a non-zero digit, at most 15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// twilioError is the body of Twilio's 4xx/5xx responses; twilio-go decodes it into
// client.TwilioRestError.
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func writeTwilioError(w http.ResponseWriter, status, code int, format string, args ...any) {
	writeJSON(w, status, twilioError{
		Code:     code,
		Message:  fmt.Sprintf(format, args...),
		MoreInfo: twilioErrorsDocPrefix + fmt.Sprint(code),
		Status:   status,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// authorize checks HTTP Basic credentials and that the path names the same account, answering
// 401 the way Twilio does when they do not match.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if ok && equal(user, s.cfg.AccountSID) && equal(pass, s.cfg.AuthToken) &&
		r.PathValue("AccountSid") == s.cfg.AccountSID {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
	writeTwilioError(w, http.StatusUnauthorized, codeAuthenticate, "Authenticate")
	return false
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (s *Server) createMessage(w http.ResponseWriter, r *http.Request) {
	// Faults come before authentication: they stand for Twilio's edge failing, which does
	// not depend on who is asking. An accept-timeout fault lets the request through and
	// withholds only the answer to an accepted message.
	f, faulty := s.takeFault()
	if faulty && f.Mode != FailAcceptThenTimeout {
		s.fail(w, r, f)
		return
	}
	if !s.authorize(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	if err := r.ParseForm(); err != nil {
		writeTwilioError(w, http.StatusBadRequest, 20001, "Could not parse the request body: %v", err)
		return
	}
	to := r.PostForm.Get("To")
	from := r.PostForm.Get("From")
	body := r.PostForm.Get("Body")
	service := r.PostForm.Get("MessagingServiceSid")
	callback := r.PostForm.Get("StatusCallback")
	switch {
	case to == "":
		writeTwilioError(w, http.StatusBadRequest, codeToRequired, "A 'To' phone number is required.")
		return
	case !e164.MatchString(to):
		writeTwilioError(w, http.StatusBadRequest, codeInvalidTo, "The 'To' number %s is not a valid phone number.", to)
		return
	case from == "" && service == "":
		writeTwilioError(w, http.StatusBadRequest, codeFromRequired, "A 'From' phone number is required.")
		return
	case from != "" && s.cfg.FromNumber != "" && from != s.cfg.FromNumber:
		writeTwilioError(w, http.StatusBadRequest, codeFromNotOnAccount,
			"The From phone number %s is not a valid, SMS-capable inbound phone number or short code for your account.", from)
		return
	case strings.TrimSpace(body) == "":
		writeTwilioError(w, http.StatusBadRequest, codeBodyRequired, "Message body is required.")
		return
	case len([]rune(body)) > maxBodyChars:
		writeTwilioError(w, http.StatusBadRequest, codeBodyTooLong,
			"The concatenated message body exceeds the %d character limit.", maxBodyChars)
		return
	case callback != "" && !absoluteHTTPURL(callback):
		writeTwilioError(w, http.StatusBadRequest, codeInvalidCallback, "The StatusCallback URL %s is not a valid URL.", callback)
		return
	}
	if from == "" {
		// Twilio picks a sender from the messaging service's pool; the account number stands in.
		from = s.cfg.FromNumber
	}

	now := time.Now().UTC()
	m := &Message{
		SID:                 newSID("SM"),
		AccountSID:          s.cfg.AccountSID,
		To:                  to,
		From:                from,
		Body:                body,
		MessagingServiceSID: service,
		Status:              "queued",
		StatusCallback:      callback,
		NumSegments:         segments(body),
		DateCreated:         now,
		DateUpdated:         now,
	}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	res := resourceOf(m)
	ctx := s.gen
	start := !s.closed
	if start {
		// Added under the lock so Close cannot start waiting between the check and the Add.
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if start {
		go s.progress(ctx, m.SID)
	}
	s.log.Info("twilio sandbox accepted message", "sid", m.SID, "to", to, "from", from, "segments", m.NumSegments)
	if faulty {
		// FailAcceptThenTimeout: the message stands, but its answer never arrives.
		s.fail(w, r, f)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

func (s *Server) fetchMessage(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	sid, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	s.mu.Lock()
	var res resource
	m := s.find(sid)
	if m != nil {
		res = resourceOf(m)
	}
	s.mu.Unlock()
	if !ok || m == nil {
		writeTwilioError(w, http.StatusNotFound, codeNotFound, "The requested resource %s was not found", r.URL.Path)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// listMessages serves every outbound message, newest first; ?to= filters by recipient.
func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	msgs := newestFirst(s.Messages())
	if to := r.URL.Query().Get("to"); to != "" {
		kept := msgs[:0]
		for _, m := range msgs {
			if m.To == to {
				kept = append(kept, m)
			}
		}
		msgs = kept
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs})
}

func newestFirst(msgs []Message) []Message {
	slices.Reverse(msgs)
	return msgs
}

// resource is the Message resource as Twilio's API returns it, nulls included, so twilio-go
// decodes it exactly as it would a real one. Must be built with s.mu held.
type resource struct {
	AccountSID          string            `json:"account_sid"`
	APIVersion          string            `json:"api_version"`
	Body                string            `json:"body"`
	DateCreated         string            `json:"date_created"`
	DateSent            *string           `json:"date_sent"`
	DateUpdated         string            `json:"date_updated"`
	Direction           string            `json:"direction"`
	ErrorCode           *int              `json:"error_code"`
	ErrorMessage        *string           `json:"error_message"`
	From                string            `json:"from"`
	MessagingServiceSID *string           `json:"messaging_service_sid"`
	NumMedia            string            `json:"num_media"`
	NumSegments         string            `json:"num_segments"`
	Price               *string           `json:"price"`
	PriceUnit           string            `json:"price_unit"`
	SID                 string            `json:"sid"`
	Status              string            `json:"status"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
	To                  string            `json:"to"`
	URI                 string            `json:"uri"`
}

func resourceOf(m *Message) resource {
	base := fmt.Sprintf("/%s/Accounts/%s/Messages/%s", apiVersion, m.AccountSID, m.SID)
	r := resource{
		AccountSID:      m.AccountSID,
		APIVersion:      apiVersion,
		Body:            m.Body,
		DateCreated:     m.DateCreated.Format(rfc2822),
		DateUpdated:     m.DateUpdated.Format(rfc2822),
		Direction:       "outbound-api",
		From:            m.From,
		NumMedia:        "0",
		NumSegments:     fmt.Sprint(m.NumSegments),
		PriceUnit:       "USD",
		SID:             m.SID,
		Status:          m.Status,
		SubresourceURIs: map[string]string{"media": base + "/Media.json", "feedback": base + "/Feedback.json"},
		To:              m.To,
		URI:             base + ".json",
	}
	if !m.DateSent.IsZero() {
		sent := m.DateSent.Format(rfc2822)
		r.DateSent = &sent
	}
	if m.MessagingServiceSID != "" {
		r.MessagingServiceSID = &m.MessagingServiceSID
	}
	return r
}

func absoluteHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// GSM 03.38: the basic set costs one septet per character, the extension table two.
const (
	gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Extension = "^{}\\[~]|€\f"
)

// segments is how many SMS parts body is billed as: 160 GSM-7 septets or 70 UCS-2 units in
// a single part, 153 or 67 per part once the message is split (the rest carries the header).
func segments(body string) int {
	septets := 0
	for _, r := range body {
		switch {
		case strings.ContainsRune(gsm7Basic, r):
			septets++
		case strings.ContainsRune(gsm7Extension, r):
			septets += 2
		default:
			units := len(utf16.Encode([]rune(body)))
			return parts(units, 70, 67)
		}
	}
	return parts(septets, 160, 153)
}

func parts(n, single, multi int) int {
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}
