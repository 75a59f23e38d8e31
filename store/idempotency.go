package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// KeyClaim is the binding an Idempotency-Key holds: the booking its request concerned, the
// request's hash, and whether this claim made the binding (false: the key was bound before,
// by this request's first attempt or by another request).
type KeyClaim struct {
	BookingID   string
	RequestHash string
	New         bool
}

// ClaimIdempotencyKey binds a client's key to bookingID and the request's hash, unless the key
// is bound already; it returns the binding that holds. A key reused with another request shows
// as a different hash.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, userID, key, requestHash, bookingID string) (boundBooking, boundHash string, err error) {
	c, err := s.ClaimKey(ctx, userID, key, requestHash, bookingID)
	return c.BookingID, c.RequestHash, err
}

// ClaimKey is ClaimIdempotencyKey telling also whether the key was bound just now. A user's
// keys are one namespace: a key names one request, whether it made a booking or commanded one.
func (s *Store) ClaimKey(ctx context.Context, userID, key, requestHash, bookingID string) (KeyClaim, error) {
	var c KeyClaim
	var err error
	// A concurrent first claim can commit after this statement's snapshot: then neither branch
	// sees a row, and asking again does.
	for attempt := 0; attempt < 3; attempt++ {
		err = s.pool.QueryRow(ctx, `WITH ins AS (
			INSERT INTO idempotency_keys (user_id, key, request_hash, booking_id) VALUES ($1, $2, $3, $4)
			ON CONFLICT (user_id, key) DO NOTHING
			RETURNING booking_id, request_hash)
		SELECT booking_id, request_hash, true FROM ins
		UNION ALL
		SELECT booking_id, request_hash, false FROM idempotency_keys WHERE user_id = $1 AND key = $2
		LIMIT 1`, userID, key, requestHash, bookingID).Scan(&c.BookingID, &c.RequestHash, &c.New)
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
	}
	if err != nil {
		return KeyClaim{}, fmt.Errorf("claim idempotency key: %w", err)
	}
	return c, nil
}
