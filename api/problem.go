package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"go.temporal.io/sdk/temporal"

	"github.com/clinicbook/booking/domain"
)

// problem is an RFC 9457 problem detail.
type problem struct {
	Type     string              `json:"type"`
	Title    string              `json:"title"`
	Status   int                 `json:"status"`
	Detail   string              `json:"detail,omitempty"`
	Instance string              `json:"instance,omitempty"`
	Errors   []domain.FieldError `json:"errors,omitempty"`
}

var kindStatus = map[domain.Kind]int{
	domain.KindInvalid:       http.StatusBadRequest,
	domain.KindUnprocessable: http.StatusUnprocessableEntity,
	domain.KindNotFound:      http.StatusNotFound,
	domain.KindConflict:      http.StatusConflict,
	domain.KindUnauthorized:  http.StatusUnauthorized,
	domain.KindForbidden:     http.StatusForbidden,
	domain.KindRateLimited:   http.StatusTooManyRequests,
	domain.KindUnavailable:   http.StatusServiceUnavailable,
	domain.KindInternal:      http.StatusInternalServerError,

	domain.KindVerificationRequired: http.StatusForbidden,
}

// asDomainError finds the domain error in err: ours directly, or one that crossed Temporal as
// an application error whose type is the kind and whose details are the bad fields.
func asDomainError(err error) *domain.Error {
	var de *domain.Error
	if errors.As(err, &de) {
		return de
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if _, known := kindStatus[domain.Kind(appErr.Type())]; known {
			out := &domain.Error{Kind: domain.Kind(appErr.Type()), Message: appErr.Message()}
			if appErr.HasDetails() {
				_ = appErr.Details(&out.Fields)
			}
			return out
		}
	}
	return nil
}

// writeError answers with the problem that err stands for. Errors that are not ours are logged
// and answered with a plain 500: their text never reaches the client.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	de := asDomainError(err)
	if de == nil {
		slog.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "request_id", requestID(r.Context()), "err", err)
		de = &domain.Error{Kind: domain.KindInternal, Message: "something went wrong on our side; it has been logged"}
	}
	writeProblem(w, r, de)
}

func writeProblem(w http.ResponseWriter, r *http.Request, de *domain.Error) {
	status, ok := kindStatus[de.Kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	writeProblemStatus(w, r, status, de)
}

// writeProblemStatus answers with de under a status of the caller's choosing.
func writeProblemStatus(w http.ResponseWriter, r *http.Request, status int, de *domain.Error) {
	// A 503 may say when to come back too: password hashing turns logins away for a moment
	// when its memory budget is taken.
	if (de.Kind == domain.KindRateLimited || de.Kind == domain.KindUnavailable) && de.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(de.RetryAfterSeconds))
	}
	p := problem{
		Type:     "https://clinicbook.dev/problems/" + string(de.Kind),
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   de.Message,
		Instance: r.URL.Path,
		Errors:   de.Fields,
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}
