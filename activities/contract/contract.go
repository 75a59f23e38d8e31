// Package contract is what a workflow needs to call the activities: their registered names and
// their input and result types. It imports the domain and nothing that does I/O, so the
// workflow package can use it without pulling in the store (pgx) or the senders (twilio-go).
//
// The names are the method names of *activities.Activities and *activities.Reconciler, which
// is how the worker registers them, and the JSON of every type is recorded in workflow
// histories: renaming either breaks the bookings in flight.
package contract

import (
	"time"

	"github.com/clinicbook/booking/domain"
)

// Activity names, as registered by the worker (the method names of *activities.Activities).
const (
	HoldSlot         = "HoldSlot"
	SetStatus        = "SetStatus"
	MoveBooking      = "MoveBooking"
	LoadBooking      = "LoadBooking"
	RecordEvent      = "RecordEvent"
	SendNotification = "SendNotification"
)

// Reconciler activity names (the method names of *activities.Reconciler).
const (
	ExpireLapsedHolds  = "ExpireLapsedHolds"
	ResumeLiveBookings = "ResumeLiveBookings"
)

// HoldInput asks to hold a slot for a new booking.
type HoldInput struct {
	BookingID  string    `json:"booking_id"`
	ProviderID string    `json:"provider_id"`
	ServiceID  string    `json:"service_id"`
	PatientID  string    `json:"patient_id"`
	Start      time.Time `json:"start"`
	Notes      string    `json:"notes,omitempty"`
	ExpiresAt  time.Time `json:"expires_at"`
	// MaxActive caps the patient's future held or confirmed bookings; 0 keeps the older
	// cap on holds alone (store.MaxHoldsPerPatient).
	MaxActive int `json:"max_active,omitempty"`
}

// StatusInput moves a booking from one of From to To.
type StatusInput struct {
	BookingID  string          `json:"booking_id"`
	From       []domain.Status `json:"from"`
	To         domain.Status   `json:"to"`
	Reason     string          `json:"reason,omitempty"`
	ReasonCode string          `json:"reason_code,omitempty"`
	LateCancel bool            `json:"late_cancel,omitempty"`
	By         string          `json:"by,omitempty"`
	// EventKey names the change in the timeline; the same key is written once.
	EventKey string `json:"event_key"`
}

// MoveInput moves a booking to a new start, as its revision Revision.
type MoveInput struct {
	BookingID string    `json:"booking_id"`
	Start     time.Time `json:"start"`
	Revision  int       `json:"revision"`
	By        string    `json:"by,omitempty"`
}

// EventInput is a timeline entry the workflow wants recorded.
type EventInput struct {
	BookingID string         `json:"booking_id"`
	Key       string         `json:"key"`
	Type      string         `json:"type"`
	At        time.Time      `json:"at"`
	Detail    map[string]any `json:"detail,omitempty"`
}

// NotifyInput names one message: a booking, a kind (and which reminder), a channel, and the
// booking revision it is about. Together they are the notification's unique key.
type NotifyInput struct {
	BookingID string `json:"booking_id"`
	Kind      string `json:"kind"`
	Variant   string `json:"variant,omitempty"`
	Channel   string `json:"channel"`
	Revision  int    `json:"revision"`
	// OldStart is the time a reschedule moved the booking from.
	OldStart time.Time `json:"old_start,omitzero"`
}

// NotifyResult is where the message stands after the activity.
type NotifyResult struct {
	NotificationID string `json:"notification_id"`
	Status         string `json:"status"`
}

// Sent reports whether the message went out (or had gone out before), rather than being
// refused for good or skipped.
func (r NotifyResult) Sent() bool {
	return r.Status != domain.NotificationFailed && r.Status != domain.NotificationSkipped
}

// ReconcileCursor is where a page of a reconciler listing starts: after this (time, id).
type ReconcileCursor struct {
	At time.Time `json:"at"`
	ID string    `json:"id"`
}

// ReconcilePage asks for one page of a reconciler listing.
type ReconcilePage struct {
	// Now is the run's time; every page of a run uses the same one.
	Now time.Time `json:"now"`
	// Grace is how long past its expiry a hold is left to its own workflow.
	Grace time.Duration    `json:"grace,omitempty"`
	After *ReconcileCursor `json:"after,omitempty"`
	Limit int              `json:"limit"`
}

// ReconcilePageResult says what one page found and did.
type ReconcilePageResult struct {
	Checked int `json:"checked"`
	// Repaired counts the holds expired or the workflows resumed.
	Repaired int `json:"repaired"`
	// Failed counts the bookings that could not be checked or repaired; the next run tries
	// them again.
	Failed int `json:"failed"`
	// Next is where the following page starts; nil when this page was the last.
	Next *ReconcileCursor `json:"next,omitempty"`
}
