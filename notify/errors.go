// Package notify talks to patients: it renders booking messages, sends SMS through Twilio
// (twilio-go) and email over SMTP (go-mail) with an iCalendar invite, and classifies every
// failure as permanent or temporary so callers know whether retrying can help.
package notify

import (
	"errors"
	"fmt"
	"time"
)

// SendError is a failed SMS or email send.
type SendError struct {
	// Channel is domain.ChannelSMS or domain.ChannelEmail.
	Channel string
	// Permanent means the provider refused the message itself (bad number, bad address,
	// bad credentials): sending it again unchanged fails again.
	Permanent bool
	// Status is the HTTP status (SMS) or SMTP reply code (email); 0 when none arrived.
	Status int
	// Code is Twilio's error code, such as 21211 for an invalid number; 0 when unknown.
	Code int
	// RetryAfter is the provider's requested pause before retrying, when it gave one.
	RetryAfter time.Duration
	Err        error
}

func (e *SendError) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	switch {
	case e.Status != 0 && e.Code != 0:
		return fmt.Sprintf("%s: %s failure (status %d, code %d): %v", e.Channel, kind, e.Status, e.Code, e.Err)
	case e.Status != 0:
		return fmt.Sprintf("%s: %s failure (status %d): %v", e.Channel, kind, e.Status, e.Err)
	default:
		return fmt.Sprintf("%s: %s failure: %v", e.Channel, kind, e.Err)
	}
}

func (e *SendError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a refusal that retrying cannot fix. Errors that are not
// a *SendError are treated as temporary.
func IsPermanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

// RetryAfter returns the pause the provider asked for before a retry, or 0.
func RetryAfter(err error) time.Duration {
	var se *SendError
	if errors.As(err, &se) {
		return se.RetryAfter
	}
	return 0
}
