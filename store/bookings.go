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
	"github.com/clinicbook/booking/store/internal/db"
)

// bookingRow is any generated row type of a query returning a booking's columns: sqlc makes a
// type per query, and these queries (queries/bookings.sql, queries/reconcile.sql) return the
// same columns in the same order, so each converts to db.GetBookingRow.
type bookingRow interface {
	db.GetBookingRow | db.CreateHoldRow | db.ChangeStatusRow | db.MoveBookingRow | db.ListBookingsRow |
		db.NextBookingByPhoneRow | db.LapsedHoldsRow | db.LiveBookingsRow
}

func bookingOf[R bookingRow](row R) domain.Booking {
	r := db.GetBookingRow(row)
	return domain.Booking{ID: r.ID, Status: domain.Status(r.Status), ProviderID: r.ProviderID, ServiceID: r.ServiceID,
		PatientID: r.PatientID, Start: r.StartAt, End: r.EndAt, HoldExpiresAt: r.HoldExpiresAt, Notes: r.Notes,
		CancelReason: r.CancelReason, CancelReasonCode: r.CancelReasonCode, LateCancel: r.LateCancel,
		Revision: r.Revision, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func bookingsOf[R bookingRow](rows []R) []domain.Booking {
	out := make([]domain.Booking, len(rows))
	for i, r := range rows {
		out[i] = bookingOf(r)
	}
	return out
}

// EventInput is one timeline entry to record. Key makes recording it twice harmless.
type EventInput struct {
	Key    string
	Type   string
	At     time.Time
	Detail map[string]any
}

func addEvent(ctx context.Context, q *db.Queries, bookingID string, ev EventInput) error {
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
	err = q.AddEvent(ctx, db.AddEventParams{BookingID: bookingID, Key: ev.Key, Type: ev.Type, At: at, Detail: detail})
	if err != nil {
		return fmt.Errorf("add event: %w", err)
	}
	return nil
}

// AddEvent records a timeline entry; a second call with the same key does nothing.
func (s *Store) AddEvent(ctx context.Context, bookingID string, ev EventInput) error {
	return s.inTx(ctx, func(q *db.Queries) error { return addEvent(ctx, q, bookingID, ev) })
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
	err := s.inTx(ctx, func(q *db.Queries) error {
		// First, so that a patient taking back their own lapsed slot is not counted twice.
		if err := expireLapsedOverlaps(ctx, q, b); err != nil {
			return err
		}
		// One patient may not take the whole calendar: bookings are capped, counted under a
		// per-patient lock so that parallel requests cannot overrun the cap.
		if err := q.LockPatientHolds(ctx, b.PatientID); err != nil {
			return fmt.Errorf("lock patient's holds: %w", err)
		}
		n, err := q.CountPatientBookings(ctx, db.CountPatientBookingsParams{PatientID: b.PatientID, BookingID: b.ID})
		if err != nil {
			return fmt.Errorf("count bookings: %w", err)
		}
		if maxActive > 0 && n.Active >= maxActive {
			return domain.Errorf(domain.KindConflict, "you have %d upcoming bookings, the most one patient may have; cancel one before booking another", n.Active)
		}
		if maxActive <= 0 && n.Holding >= MaxHoldsPerPatient {
			return domain.Errorf(domain.KindConflict, "%d bookings are on hold already; confirm or cancel one first", n.Holding)
		}
		inserted, err := q.CreateHold(ctx, db.CreateHoldParams{ID: b.ID, ProviderID: b.ProviderID, ServiceID: b.ServiceID,
			PatientID: b.PatientID, StartAt: b.Start, EndAt: b.End, HoldExpiresAt: b.HoldExpiresAt, Notes: b.Notes})
		if errors.Is(err, pgx.ErrNoRows) {
			existing, err := getBooking(ctx, q, b.ID)
			if err != nil {
				return err
			}
			out = existing
			return nil
		}
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
		out = bookingOf(inserted)
		return addEvent(ctx, q, b.ID, ev)
	})
	return out, err
}

func getBooking(ctx context.Context, q *db.Queries, id string) (domain.Booking, error) {
	r, err := q.GetBooking(ctx, id)
	if err != nil {
		return domain.Booking{}, notFound(err, "booking")
	}
	return bookingOf(r), nil
}

// GetBooking returns one booking.
func (s *Store) GetBooking(ctx context.Context, id string) (domain.Booking, error) {
	return getBooking(ctx, s.q, id)
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
	var out domain.Booking
	err := s.inTx(ctx, func(q *db.Queries) error {
		updated, err := q.ChangeStatus(ctx, db.ChangeStatusParams{ID: c.BookingID, Status: string(c.To),
			FromStatuses: statusStrings(c.From), CancelReason: c.Reason, LateCancel: c.LateCancel, CancelReasonCode: c.ReasonCode})
		if errors.Is(err, pgx.ErrNoRows) {
			cur, err := getBooking(ctx, q, c.BookingID)
			if err != nil {
				return err
			}
			if cur.Status != c.To {
				return domain.Errorf(domain.KindConflict, "booking is %s, not %v", cur.Status, c.From)
			}
			out = cur
			return nil
		}
		if err != nil {
			return fmt.Errorf("change status: %w", err)
		}
		out = bookingOf(updated)
		return addEvent(ctx, q, c.BookingID, c.Event)
	})
	return out, err
}

func statusStrings(statuses []domain.Status) []string {
	out := make([]string, len(statuses))
	for i, st := range statuses {
		out[i] = string(st)
	}
	return out
}

// Move gives a booking a new time and the next revision in one UPDATE. The database checks
// the new range against every other booking before the old range is let go, so the new slot
// is held before the old one is released, and a refused move changes nothing.
func (s *Store) Move(ctx context.Context, bookingID string, start, end time.Time, revision int, ev EventInput) (domain.Booking, error) {
	var out domain.Booking
	err := s.inTx(ctx, func(q *db.Queries) error {
		updated, err := q.MoveBooking(ctx, db.MoveBookingParams{ID: bookingID, StartAt: start, EndAt: end, Revision: revision})
		if errors.Is(err, pgx.ErrNoRows) {
			cur, err := getBooking(ctx, q, bookingID)
			if err != nil {
				return err
			}
			if cur.Revision == revision && cur.Start.Equal(start) {
				out = cur // this move already happened
				return nil
			}
			return domain.Errorf(domain.KindConflict, "booking is %s at revision %d", cur.Status, cur.Revision)
		}
		if err != nil {
			if pgCode(err) == codeExclusionViolation {
				return ErrSlotTaken
			}
			return fmt.Errorf("move booking: %w", err)
		}
		out = bookingOf(updated)
		return addEvent(ctx, q, bookingID, ev)
	})
	return out, err
}

// ListEvents returns a booking's recorded events, oldest first.
func (s *Store) ListEvents(ctx context.Context, bookingID string) ([]domain.Event, error) {
	rows, err := s.q.ListEvents(ctx, bookingID)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	events := make([]domain.Event, len(rows))
	for i, r := range rows {
		events[i] = domain.Event{At: r.At, Type: r.Type}
		if err := json.Unmarshal(r.Detail, &events[i].Detail); err != nil {
			return nil, fmt.Errorf("list events: detail: %w", err)
		}
	}
	return events, nil
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
	rows, err := s.q.ListBookings(ctx, db.ListBookingsParams{PatientID: f.PatientID, ProviderID: f.ProviderID,
		Status: string(f.Status), FromStart: timeOrNil(f.From), ToStart: timeOrNil(f.To),
		AfterStart: timeOrNil(f.AfterStart), AfterID: f.AfterID, MaxRows: f.Limit})
	if err != nil {
		return nil, fmt.Errorf("list bookings: %w", err)
	}
	return bookingsOf(rows), nil
}

// timeOrNil is nil for the zero time, which filters nothing.
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// IsSlotTaken reports whether err is the database refusing an overlapping booking.
func IsSlotTaken(err error) bool { return errors.Is(err, ErrSlotTaken) }

// CountByStatus returns how many bookings are in each status, every status listed.
func (s *Store) CountByStatus(ctx context.Context) (map[string]int, error) {
	rows, err := s.q.CountByStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("count bookings: %w", err)
	}
	out := make(map[string]int, len(domain.Statuses))
	for _, st := range domain.Statuses {
		out[string(st)] = 0
	}
	for _, r := range rows {
		out[r.Status] = r.Count
	}
	return out, nil
}

// NextBookingByPhone returns the soonest booking after now, in one of statuses, of the patient
// who verified that phone number: the booking a patient's SMS reply is about. An unverified
// number names nobody, however many accounts typed it in at sign-up; a verified one names at
// most one (users_verified_phone_key).
func (s *Store) NextBookingByPhone(ctx context.Context, phone string, now time.Time, statuses ...domain.Status) (domain.Booking, error) {
	r, err := s.q.NextBookingByPhone(ctx, db.NextBookingByPhoneParams{Phone: phone, Statuses: statusStrings(statuses), After: now})
	if err != nil {
		return domain.Booking{}, notFound(err, "booking")
	}
	return bookingOf(r), nil
}
