package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/clinicbook/booking/store/internal/db"
)

// KeyClaim is the binding an Idempotency-Key holds: the booking its request concerned, the
// request's hash, and whether this claim made the binding (false: the key was bound before,
// by this request's first attempt or by another request).
type KeyClaim struct {
	BookingID   string
	RequestHash string
	New         bool
}

// ClaimKey binds a client's key to bookingID and the request's hash, unless the key is bound
// already, and returns the binding that holds (a key reused with another request shows as a
// different hash) and whether it was bound just now. A user's keys are one namespace: a key
// names one request, whether it made a booking or commanded one.
func (s *Store) ClaimKey(ctx context.Context, userID, key, requestHash, bookingID string) (KeyClaim, error) {
	var r db.ClaimKeyRow
	var err error
	// A concurrent first claim can commit after this statement's snapshot: then neither branch
	// sees a row, and asking again does.
	for attempt := 0; attempt < 3; attempt++ {
		r, err = s.q.ClaimKey(ctx, db.ClaimKeyParams{UserID: userID, Key: key, RequestHash: requestHash, BookingID: bookingID})
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
	}
	if err != nil {
		return KeyClaim{}, fmt.Errorf("claim idempotency key: %w", err)
	}
	return KeyClaim{BookingID: r.BookingID, RequestHash: r.RequestHash, New: r.Created}, nil
}
