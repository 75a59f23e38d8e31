// Package activities holds the side effects of a booking's life: every database write and
// every message sent. Each activity is safe to run twice: a retried or replayed call finds its
// work already done (a row by id, an event by key, a notification by its unique key) and
// returns the same answer.
package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/clinicbook/booking/activities/contract"
	"github.com/clinicbook/booking/availability"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
)

// BookingStore is what *Activities needs of the database: the booking rows and their
// timeline, the catalogue and patient reads that check a slot and render a message, and the
// notification rows that let a message go out once. *store.Store is the one the worker uses;
// it is an interface, listing just these methods, so that the activities can be tested
// without PostgreSQL.
type BookingStore interface {
	// Bookings and their timeline.
	GetBooking(ctx context.Context, id string) (domain.Booking, error)
	SlotCheck(ctx context.Context, bookingID, providerID, serviceID string, start time.Time) (cal store.Calendar, taken bool, err error)
	CreateHold(ctx context.Context, b domain.Booking, maxActive int, ev store.EventInput) (domain.Booking, error)
	ChangeStatus(ctx context.Context, c store.StatusChange) (domain.Booking, error)
	Move(ctx context.Context, bookingID string, start, end time.Time, revision int, ev store.EventInput) (domain.Booking, error)
	AddEvent(ctx context.Context, bookingID string, ev store.EventInput) error

	// What a message is rendered from.
	GetUser(ctx context.Context, id string) (domain.User, error)
	GetProvider(ctx context.Context, id string) (domain.Provider, error)
	GetService(ctx context.Context, id string) (domain.Service, error)

	// Notification rows: written before a send and updated after it.
	EnsureNotification(ctx context.Context, n domain.Notification) (domain.Notification, error)
	MarkNotificationSending(ctx context.Context, id string) error
	MarkSMSSending(ctx context.Context, id, text string) error
	SentSMSText(ctx context.Context, id string) (string, error)
	ClaimedProviderIDs(ctx context.Context, id string, sids []string) (map[string]bool, error)
	MarkNotificationSent(ctx context.Context, id, providerMessageID string) error
	MarkNotificationFailed(ctx context.Context, id, reason string) error
	MarkNotificationSkipped(ctx context.Context, id, reason string) error
	NoteNotificationError(ctx context.Context, id, reason string) error
}

// Activities holds what the activities need. Register a *Activities with the worker: its
// method names are the activity names in package contract, which also holds their input and
// result types.
type Activities struct {
	Store BookingStore
	// Now is the wall clock; tests move it.
	Now func() time.Time
	Notifier
}

// HoldSlot writes the held booking. It refuses, without retrying, a start that is not one of
// the provider's offered slots and a slot somebody else holds (the exclusion constraint).
func (a *Activities) HoldSlot(ctx context.Context, in contract.HoldInput) (domain.Booking, error) {
	length, err := a.offered(ctx, in.BookingID, in.ProviderID, in.ServiceID, in.Start)
	if err != nil {
		// The same booking id held already (a retry after the first run committed) is fine.
		if existing, gerr := a.Store.GetBooking(ctx, in.BookingID); gerr == nil {
			return existing, nil
		}
		return domain.Booking{}, activityError(err)
	}
	exp := in.ExpiresAt
	b := domain.Booking{
		ID: in.BookingID, ProviderID: in.ProviderID, ServiceID: in.ServiceID, PatientID: in.PatientID,
		Start: in.Start, End: in.Start.Add(length), HoldExpiresAt: &exp, Notes: in.Notes,
	}
	held, err := a.Store.CreateHold(ctx, b, in.MaxActive, store.EventInput{Key: "status:held", Type: "status",
		Detail: map[string]any{"status": domain.StatusHeld, "hold_expires_at": exp}})
	if err != nil {
		return domain.Booking{}, activityError(err)
	}
	return held, nil
}

// offered checks that start is one of the provider's slots for the service and in the future,
// and returns the service's length. It reads the provider's calendar around start in one
// statement: it sits on the hold's path, the POST's answer. Whether the slot is free is the
// exclusion constraint's to decide.
func (a *Activities) offered(ctx context.Context, bookingID, providerID, serviceID string, start time.Time) (time.Duration, error) {
	cal, _, err := a.Store.SlotCheck(ctx, bookingID, providerID, serviceID, start)
	if err != nil {
		return 0, unprocessable(err, "provider_id", "no such provider")
	}
	if err := availability.CheckStart(cal.Schedule, cal.Length, start, a.Now()); err != nil {
		return 0, err
	}
	return cal.Length, nil
}

// SetStatus writes a status change and its timeline event.
func (a *Activities) SetStatus(ctx context.Context, in contract.StatusInput) (domain.Booking, error) {
	detail := map[string]any{"status": in.To}
	if in.Reason != "" {
		detail["reason"] = in.Reason
	}
	if in.ReasonCode != "" {
		detail["reason_code"] = in.ReasonCode
	}
	if in.LateCancel {
		detail["late"] = true
	}
	if in.By != "" {
		detail["by"] = in.By
	}
	b, err := a.Store.ChangeStatus(ctx, store.StatusChange{
		BookingID: in.BookingID, From: in.From, To: in.To, Reason: in.Reason, ReasonCode: in.ReasonCode, LateCancel: in.LateCancel,
		Event: store.EventInput{Key: in.EventKey, Type: "status", Detail: detail},
	})
	if err != nil {
		return domain.Booking{}, activityError(err)
	}
	return b, nil
}

// MoveBooking reschedules: the new slot must be offered and free; a refusal changes nothing.
func (a *Activities) MoveBooking(ctx context.Context, in contract.MoveInput) (domain.Booking, error) {
	cur, err := a.Store.GetBooking(ctx, in.BookingID)
	if err != nil {
		return domain.Booking{}, activityError(err)
	}
	if cur.Revision == in.Revision && cur.Start.Equal(in.Start) {
		return cur, nil // moved already by an earlier run
	}
	length, err := a.offered(ctx, in.BookingID, cur.ProviderID, cur.ServiceID, in.Start)
	if err != nil {
		return domain.Booking{}, activityError(err)
	}
	moved, err := a.Store.Move(ctx, in.BookingID, in.Start, in.Start.Add(length), in.Revision, store.EventInput{
		Key: fmt.Sprintf("rescheduled:%d", in.Revision), Type: "rescheduled",
		Detail: map[string]any{"from": cur.Start, "to": in.Start, "revision": in.Revision, "by": in.By},
	})
	if err != nil {
		return domain.Booking{}, activityError(err)
	}
	return moved, nil
}

// LoadBooking reads a booking as the database has it: how a workflow catches up when the
// database moved without it (a write whose answer was lost, a resumed run).
func (a *Activities) LoadBooking(ctx context.Context, bookingID string) (domain.Booking, error) {
	b, err := a.Store.GetBooking(ctx, bookingID)
	return b, activityError(err)
}

// RecordEvent writes a timeline entry once.
func (a *Activities) RecordEvent(ctx context.Context, in contract.EventInput) error {
	return activityError(a.Store.AddEvent(ctx, in.BookingID, store.EventInput{Key: in.Key, Type: in.Type, At: in.At, Detail: in.Detail}))
}

// activityError makes the refusals that retrying cannot fix non-retryable, keeping their kind
// as the error type and the bad fields as details so the API can answer with them.
func activityError(err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) && de.Kind != domain.KindInternal && de.Kind != domain.KindUnavailable {
		return temporal.NewNonRetryableApplicationError(de.Message, string(de.Kind), err, de.Fields)
	}
	return err
}

// unprocessable turns a not-found into a refusal naming the field that pointed at nothing.
func unprocessable(err error, field, msg string) error {
	if domain.IsKind(err, domain.KindNotFound) {
		return &domain.Error{Kind: domain.KindUnprocessable, Message: err.Error(),
			Fields: []domain.FieldError{{Field: field, Message: msg}}}
	}
	return err
}
