// Package domain holds the booking platform's vocabulary: bookings, slots, statuses and the
// kinds of error every other package speaks. It imports nothing of ours.
package domain

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller can do about it, not by where it came from.
type Kind string

const (
	KindInvalid       Kind = "invalid"       // the request itself is malformed or a field is bad
	KindUnprocessable Kind = "unprocessable" // well-formed, but not something we can do (not an offered slot)
	KindNotFound      Kind = "not_found"     // absent, or not the caller's to see
	KindConflict      Kind = "conflict"      // clashes with the current state (slot taken, hold expired)
	KindUnauthorized  Kind = "unauthorized"  // no valid credentials
	KindForbidden     Kind = "forbidden"     // valid credentials, not allowed
	KindRateLimited   Kind = "rate_limited"  // too many attempts
	KindUnavailable   Kind = "unavailable"   // a dependency is down
	KindInternal      Kind = "internal"      // our fault

	// KindVerificationRequired: allowed once the patient has verified an email or a phone.
	// Its problem type ends in "verification-required", which clients look for.
	KindVerificationRequired Kind = "verification-required"
)

// FieldError names one bad input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an error the platform means to show its caller.
type Error struct {
	Kind    Kind
	Message string
	Fields  []FieldError
	// RetryAfterSeconds is set on rate-limited errors.
	RetryAfterSeconds int
}

func (e *Error) Error() string { return e.Message }

// Errorf builds an *Error of the given kind.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Invalid builds a KindInvalid error listing the bad fields.
func Invalid(message string, fields ...FieldError) *Error {
	return &Error{Kind: KindInvalid, Message: message, Fields: fields}
}

// ErrorKind returns the kind of err, KindInternal for errors that are not ours.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// IsKind reports whether err is a domain error of kind k.
func IsKind(err error, k Kind) bool { return err != nil && ErrorKind(err) == k }

// FieldErrors collects field errors during validation.
type FieldErrors []FieldError

// Add records a bad field.
func (f *FieldErrors) Add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when no field was bad, else a KindInvalid error listing them.
func (f FieldErrors) Err(message string) error {
	if len(f) == 0 {
		return nil
	}
	return Invalid(message, f...)
}
