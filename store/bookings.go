package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clinicbook/booking/domain"
)

const bookingColumns = `id, status, provider_id, service_id, patient_id, start_at, end_at, hold_expires_at,
	notes, cancel_reason, cancel_reason_code, late_cancel, revision, created_at, updated_at`

func scanBooking(row pgx.CollectableRow) (domain.Booking, error) {
	var b domain.Booking
	var status string
	err := row.Scan(&b.ID, &status, &b.ProviderID, &b.ServiceID, &b.PatientID, &b.Start, &b.End, &b.HoldExpiresAt,
		&b.Notes, &b.CancelReason, &b.CancelReasonCode, &b.LateCancel, &b.Revision, &b.CreatedAt, &b.UpdatedAt)
	b.Status = domain.Status(status)
	return b, err
}

// EventInput is one timeline entry to record. Key makes recording it twice harmless.
type EventInput struct {
	Key    string
	Type   string
	At     time.Time
	Detail map[string]any
}

func addEvent(ctx context.Context, tx pgx.Tx, bookingID string, ev EventInput) error {
	if ev.Key == "" {
		return nil
	}
	detail, err := json.Marshal(ev.Detail)
	if err != nil {
		return fmt.Errorf("event detail: %w", err)
	}
	if ev.Detail == nil {
		detail = []byte("{}")
	}
	at := ev.At
	if at.IsZero() {
		at = time.Now()
	}
	_, err = tx.Exec(ctx, `INSERT INTO booking_events (booking_id, key, type, at, detail) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (booking_id, key) DO NOTHING`, bookingID, ev.Key, ev.Type, at, detail)
	if err != nil {
		return fmt.Errorf("add event: %w", err)
	}
	return nil
}

// AddEvent records a timeline entry; a second call with the same key does nothing.
func (s *Store) AddEvent(ctx context.Context, bookingID string, ev EventInput) error {
	return s.InTx(ctx, func(tx pgx.Tx) error { return addEvent(ctx, tx, bookingID, ev) })
}

// MaxHoldsPerPatient is how many unconfirmed holds one patient may have at once.
const MaxHoldsPerPatient = 5

// CreateHold inserts a held booking. Inserting the same booking id again returns the row
// already there, so a retried hold is harmless; an overlap with another booking is
// ErrSlotTaken, decided by the database's exclusion constraint.
//
// maxActive caps the patient's future held or confirmed bookings (0: only MaxHoldsPerPatient
// holds, the cap of bookings made before it existed).
func (s *Store) CreateHold(ctx context.Context, b domain.Booking, maxActive int, ev EventInput) (domain.Booking, error) {
	var out domain.Booking
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		// First, so that a patient taking back their own lapsed slot is not counted twice.
		if err := expireLapsedOverlaps(ctx, tx, b); err != nil {
			return err
		}
		// One patient may not take the whole calendar: bookings are capped, counted under a
		// per-patient lock so that parallel requests cannot overrun the cap.
		var holding, active int
		err := tx.QueryRow(ctx, `SELECT pg_advisory_xact_lock(hashtext('holds:' || $1)),
			(SELECT count(*) FROM bookings WHERE patient_id = $1 AND status = 'held' AND id <> $2),
			(SELECT count(*) FROM bookings WHERE patient_id = $1 AND status IN ('held', 'confirmed') AND end_at > now() AND id <> $2)`,
			b.PatientID, b.ID).Scan(nil, &holding, &active)
		if err != nil {
			return fmt.Errorf("count bookings: %w", err)
		}
		if maxActive > 0 && active >= maxActive {
			return domain.Errorf(domain.KindConflict, "you have %d upcoming bookings, the most one patient may have; cancel one before booking another", active)
		}
		if maxActive <= 0 && holding >= MaxHoldsPerPatient {
			return domain.Errorf(domain.KindConflict, "%d bookings are on hold already; confirm or cancel one first", holding)
		}
		rows, _ := tx.Query(ctx, `INSERT INTO bookings (id, status, provider_id, service_id, patient_id, start_at, end_at, hold_expires_at, notes)
			VALUES ($1, 'held', $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (id) DO NOTHING
			RETURNING `+bookingColumns,
			b.ID, b.ProviderID, b.ServiceID, b.PatientID, b.Start, b.End, b.HoldExpiresAt, b.Notes)
		inserted, err := pgx.CollectRows(rows, scanBooking)
		if err != nil {
			if pgCode(err) == codeExclusionViolation {
				return ErrSlotTaken
			}
			if pgCode(err) == codeForeignKey {
				field := strings.TrimSuffix(strings.TrimPrefix(constraintOf(err), "bookings_"), "_fkey")
				return &domain.Error{Kind: domain.KindUnprocessable, Message: "unknown " + strings.TrimSuffix(field, "_id"),
					Fields: []domain.FieldError{{Field: field, Message: "no such " + strings.TrimSuffix(field, "_id")}}}
			}
			return fmt.Errorf("create hold: %w", err)
		}
		if len(inserted) == 0 {
			existing, err := getBooking(ctx, tx, b.ID)
			if err != nil {
				return err
			}
			out = existing
			return nil
		}
		out = inserted[0]
		return addEvent(ctx, tx, b.ID, ev)
	})
	return out, err
}

func getBooking(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, id string) (domain.Booking, error) {
	rows, _ := q.Query(ctx, `SELECT `+bookingColumns+` FROM bookings WHERE id = $1`, id)
	b, err := pgx.CollectExactlyOneRow(rows, scanBooking)
	if err != nil {
		return domain.Booking{}, notFound(err, "booking")
	}
	return b, nil
}

// GetBooking returns one booking.
func (s *Store) GetBooking(ctx context.Context, id string) (domain.Booking, error) {
	return getBooking(ctx, s.pool, id)
}

// StatusChange moves a booking from one of From to To and records the event.
type StatusChange struct {
	BookingID  string
	From       []domain.Status
	To         domain.Status
	Reason     string
	ReasonCode string
	LateCancel bool
	Event      EventInput
}

// ChangeStatus applies c. Applying it again once it took effect returns the booking unchanged,
// so an activity that runs twice is harmless; a booking in any other status is a conflict.
func (s *Store) ChangeStatus(ctx context.Context, c StatusChange) (domain.Booking, error) {
	from := make([]string, len(c.From))
	for i, st := range c.From {
		from[i] = string(st)
	}
	var out domain.Booking
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `UPDATE bookings SET status = $2, updated_at = now(),
				cancel_reason = CASE WHEN $2 = 'cancelled' THEN $4 ELSE cancel_reason END,
				late_cancel = CASE WHEN $2 = 'cancelled' THEN $5 ELSE late_cancel END,
				cancel_reason_code = CASE WHEN $2 = 'cancelled' THEN $6 ELSE cancel_reason_code END,
				hold_expires_at = CASE WHEN $2 = 'held' THEN hold_expires_at ELSE NULL END
			WHERE id = $1 AND status = ANY($3)
			RETURNING `+bookingColumns, c.BookingID, string(c.To), from, c.Reason, c.LateCancel, c.ReasonCode)
		updated, err := pgx.CollectRows(rows, scanBooking)
		if err != nil {
			return fmt.Errorf("change status: %w", err)
		}
		if len(updated) == 0 {
			cur, err := getBooking(ctx, tx, c.BookingID)
			if err != nil {
				return err
			}
			if cur.Status != c.To {
				return domain.Errorf(domain.KindConflict, "booking is %s, not %v", cur.Status, c.From)
			}
			out = cur
			return nil
		}
		out = updated[0]
		return addEvent(ctx, tx, c.BookingID, c.Event)
	})
	return out, err
}

// Move gives a booking a new time and the next revision in one UPDATE. The database checks
// the new range against every other booking before the old range is let go, so the new slot
// is held before the old one is released, and a refused move changes nothing.
func (s *Store) Move(ctx context.Context, bookingID string, start, end time.Time, revision int, ev EventInput) (domain.Booking, error) {
	var out domain.Booking
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `UPDATE bookings SET start_at = $2, end_at = $3, revision = $4, updated_at = now()
			WHERE id = $1 AND revision = $4 - 1 AND status IN ('held', 'confirmed')
			RETURNING `+bookingColumns, bookingID, start, end, revision)
		updated, err := pgx.CollectRows(rows, scanBooking)
		if err != nil {
			if pgCode(err) == codeExclusionViolation {
				return ErrSlotTaken
			}
			return fmt.Errorf("move booking: %w", err)
		}
		if len(updated) == 0 {
			cur, err := getBooking(ctx, tx, bookingID)
			if err != nil {
				return err
			}
			if cur.Revision == revision && cur.Start.Equal(start) {
				out = cur // this move already happened
				return nil
			}
			return domain.Errorf(domain.KindConflict, "booking is %s at revision %d", cur.Status, cur.Revision)
		}
		out = updated[0]
		return addEvent(ctx, tx, bookingID, ev)
	})
	return out, err
}

// ListEvents returns a booking's recorded events, oldest first.
func (s *Store) ListEvents(ctx context.Context, bookingID string) ([]domain.Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT at, type, detail FROM booking_events WHERE booking_id = $1 ORDER BY at, id`, bookingID)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Event, error) {
		var e domain.Event
		err := row.Scan(&e.At, &e.Type, &e.Detail)
		return e, err
	})
}

// BookingFilter selects bookings for a listing. Empty fields do not filter.
type BookingFilter struct {
	PatientID  string
	ProviderID string
	Status     domain.Status
	From, To   time.Time
	Limit      int
	// After is the cursor: the last (start, id) of the previous page.
	AfterStart time.Time
	AfterID    string
}

// ListBookings returns up to f.Limit bookings in (start, id) order.
func (s *Store) ListBookings(ctx context.Context, f BookingFilter) ([]domain.Booking, error) {
	var from, to, afterStart *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	if !f.AfterStart.IsZero() {
		afterStart = &f.AfterStart
	}
	rows, err := s.pool.Query(ctx, `SELECT `+bookingColumns+` FROM bookings
		WHERE ($1 = '' OR patient_id = $1)
		  AND ($2 = '' OR provider_id = $2)
		  AND ($3 = '' OR status = $3)
		  AND ($4::timestamptz IS NULL OR start_at >= $4)
		  AND ($5::timestamptz IS NULL OR start_at < $5)
		  AND ($6::timestamptz IS NULL OR (start_at, id) > ($6, $7))
		ORDER BY start_at, id
		LIMIT $8`, f.PatientID, f.ProviderID, string(f.Status), from, to, afterStart, f.AfterID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list bookings: %w", err)
	}
	return pgx.CollectRows(rows, scanBooking)
}

// IsSlotTaken reports whether err is the database refusing an overlapping booking.
func IsSlotTaken(err error) bool { return errors.Is(err, ErrSlotTaken) }

// CountByStatus returns how many bookings are in each status, every status listed.
func (s *Store) CountByStatus(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM bookings GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count bookings: %w", err)
	}
	out := make(map[string]int, len(domain.Statuses))
	for _, st := range domain.Statuses {
		out[string(st)] = 0
	}
	var status string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		out[status] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count bookings: %w", err)
	}
	return out, nil
}

// NextBookingByPhone returns the soonest booking after now, in one of statuses, of the patient
// who verified that phone number: the booking a patient's SMS reply is about. An unverified
// number names nobody, however many accounts typed it in at sign-up; a verified one names at
// most one (users_verified_phone_key).
func (s *Store) NextBookingByPhone(ctx context.Context, phone string, now time.Time, statuses ...domain.Status) (domain.Booking, error) {
	st := make([]string, len(statuses))
	for i, v := range statuses {
		st[i] = string(v)
	}
	rows, _ := s.pool.Query(ctx, `SELECT `+prefixed("b.", bookingColumns)+` FROM bookings b JOIN users u ON u.id = b.patient_id
		WHERE u.phone = $1 AND u.phone_verified_at IS NOT NULL AND b.status = ANY($2) AND b.start_at > $3
		ORDER BY b.start_at LIMIT 1`, phone, st, now)
	b, err := pgx.CollectExactlyOneRow(rows, scanBooking)
	if err != nil {
		return domain.Booking{}, notFound(err, "booking")
	}
	return b, nil
}

// prefixed qualifies a column list with a table alias.
func prefixed(alias, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
