package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store/internal/db"
)

// Cursor is a position in one of the reconciler's listings: the (time, id) of the last row of
// the previous page. The zero Cursor is the beginning.
type Cursor struct {
	At time.Time
	ID string
}

// LapsedHolds returns up to limit bookings still held whose hold expired before cutoff, after
// the cursor, in (hold_expires_at, id) order.
func (s *Store) LapsedHolds(ctx context.Context, cutoff time.Time, after Cursor, limit int) ([]domain.Booking, error) {
	rows, err := s.q.LapsedHolds(ctx, db.LapsedHoldsParams{Cutoff: cutoff, AfterAt: after.At, AfterID: after.ID, MaxRows: limit})
	if err != nil {
		return nil, fmt.Errorf("list lapsed holds: %w", err)
	}
	return bookingsOf(rows), nil
}

// LiveBookings returns up to limit bookings that are confirmed or checked in and end after
// now, after the cursor, in (end_at, id) order: the bookings that need a running workflow.
func (s *Store) LiveBookings(ctx context.Context, now time.Time, after Cursor, limit int) ([]domain.Booking, error) {
	rows, err := s.q.LiveBookings(ctx, db.LiveBookingsParams{Now: now, AfterAt: after.At, AfterID: after.ID, MaxRows: limit})
	if err != nil {
		return nil, fmt.Errorf("list live bookings: %w", err)
	}
	return bookingsOf(rows), nil
}

// ExpireLapsedHold expires booking id if it is still held and its hold expired before cutoff,
// recording who did it in the timeline. It reports whether it changed anything: a booking
// confirmed, expired or moved on meanwhile is left as it is, so calling it twice is harmless.
func (s *Store) ExpireLapsedHold(ctx context.Context, id string, cutoff time.Time, by, reason string) (bool, error) {
	var changed bool
	err := s.inTx(ctx, func(q *db.Queries) error {
		revision, err := q.ExpireLapsedHold(ctx, db.ExpireLapsedHoldParams{ID: id, Cutoff: cutoff})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("expire lapsed hold: %w", err)
		}
		changed = true
		return addEvent(ctx, q, id, expiredEvent(revision, by, reason))
	})
	return changed, err
}

// lapsedHoldSlack is how long past its expiry a hold still blocks a new hold on its slot:
// a confirm the workflow accepted just before the expiry may still be on its way to the
// database.
const lapsedHoldSlack = 5 * time.Second

// expireLapsedOverlaps expires the provider's holds over [start, end) that expired more than
// lapsedHoldSlack ago, in the new hold's transaction: a hold whose workflow is late or gone
// must not keep the slot from the next patient until the reconciler comes by.
//
// The new booking's own id is spared: a retried hold must find its row, not expire it.
func expireLapsedOverlaps(ctx context.Context, q *db.Queries, b domain.Booking) error {
	expired, err := q.ExpireLapsedOverlaps(ctx, db.ExpireLapsedOverlapsParams{ProviderID: b.ProviderID, StartAt: b.Start, EndAt: b.End,
		SlackSeconds: lapsedHoldSlack.Seconds(), BookingID: b.ID})
	if err != nil {
		return fmt.Errorf("expire lapsed holds: %w", err)
	}
	for _, l := range expired {
		if err := addEvent(ctx, q, l.ID, expiredEvent(l.Revision, "system", "expired: the hold had lapsed when a new hold took its slot")); err != nil {
			return err
		}
	}
	return nil
}

// expiredEvent is the timeline entry of an expiry made outside the booking's workflow. Its key
// is the one the workflow uses for the same change, so a workflow that expires the booking
// too records it once.
func expiredEvent(revision int, by, reason string) EventInput {
	return EventInput{
		Key:    fmt.Sprintf("status:%s:%d", domain.StatusExpired, revision),
		Type:   "status",
		Detail: map[string]any{"status": domain.StatusExpired, "by": by, "reason": reason},
	}
}
