package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clinicbook/booking/domain"
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
	rows, err := s.pool.Query(ctx, `SELECT `+bookingColumns+` FROM bookings
		WHERE status = 'held' AND hold_expires_at < $1 AND (hold_expires_at, id) > ($2, $3)
		ORDER BY hold_expires_at, id
		LIMIT $4`, cutoff, after.At, after.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("list lapsed holds: %w", err)
	}
	return pgx.CollectRows(rows, scanBooking)
}

// LiveBookings returns up to limit bookings that are confirmed or checked in and end after
// now, after the cursor, in (end_at, id) order: the bookings that need a running workflow.
func (s *Store) LiveBookings(ctx context.Context, now time.Time, after Cursor, limit int) ([]domain.Booking, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+bookingColumns+` FROM bookings
		WHERE status IN ('confirmed', 'checked_in') AND end_at > $1 AND (end_at, id) > ($2, $3)
		ORDER BY end_at, id
		LIMIT $4`, now, after.At, after.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("list live bookings: %w", err)
	}
	return pgx.CollectRows(rows, scanBooking)
}

// ExpireLapsedHold expires booking id if it is still held and its hold expired before cutoff,
// recording who did it in the timeline. It reports whether it changed anything: a booking
// confirmed, expired or moved on meanwhile is left as it is, so calling it twice is harmless.
func (s *Store) ExpireLapsedHold(ctx context.Context, id string, cutoff time.Time, by, reason string) (bool, error) {
	var changed bool
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var revision int
		err := tx.QueryRow(ctx, `UPDATE bookings SET status = 'expired', hold_expires_at = NULL, updated_at = now()
			WHERE id = $1 AND status = 'held' AND hold_expires_at < $2
			RETURNING revision`, id, cutoff).Scan(&revision)
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return fmt.Errorf("expire lapsed hold: %w", err)
		}
		changed = true
		return addEvent(ctx, tx, id, expiredEvent(revision, by, reason))
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
func expireLapsedOverlaps(ctx context.Context, tx pgx.Tx, b domain.Booking) error {
	rows, _ := tx.Query(ctx, `UPDATE bookings SET status = 'expired', hold_expires_at = NULL, updated_at = now()
		WHERE provider_id = $1 AND status = 'held' AND during && tstzrange($2, $3, '[)')
		  AND hold_expires_at < now() - make_interval(secs => $4) AND id <> $5
		RETURNING id, revision`, b.ProviderID, b.Start, b.End, lapsedHoldSlack.Seconds(), b.ID)
	type lapsed struct {
		id       string
		revision int
	}
	expired, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (lapsed, error) {
		var l lapsed
		err := row.Scan(&l.id, &l.revision)
		return l, err
	})
	if err != nil {
		return fmt.Errorf("expire lapsed holds: %w", err)
	}
	for _, l := range expired {
		if err := addEvent(ctx, tx, l.id, expiredEvent(l.revision, "system", "expired: the hold had lapsed when a new hold took its slot")); err != nil {
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
