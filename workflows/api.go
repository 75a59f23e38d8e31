// Package workflows holds BookingWorkflow, one durable workflow per booking, and the names and
// types its callers (the API) and its host (the worker) share.
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/clinicbook/booking/domain"
)

// Names admins see in the Web UI and callers address.
const (
	WorkflowName = "BookingWorkflow"

	UpdateHold       = "hold"
	UpdateConfirm    = "confirm"
	UpdateCancel     = "cancel"
	UpdateReschedule = "reschedule"
	UpdateCheckIn    = "check_in"

	QuerySummary = "summary"

	// HoldUpdateID is the hold update's id: a retried POST sends the same id and Temporal
	// answers it with the first result instead of running the hold again.
	HoldUpdateID = "hold"
)

// BookingWorkflowID is the workflow id of a booking.
func BookingWorkflowID(bookingID string) string { return "booking-" + bookingID }

// Custom search attributes, registered on the namespace, kept current at every change.
var (
	StatusAttr           = temporal.NewSearchAttributeKeyKeyword("BookingStatus")
	ProviderAttr         = temporal.NewSearchAttributeKeyKeyword("ProviderId")
	PatientAttr          = temporal.NewSearchAttributeKeyKeyword("PatientId")
	AppointmentStartAttr = temporal.NewSearchAttributeKeyTime("AppointmentStart")
)

// Input starts a booking's workflow. The policy is copied in at start so that a booking keeps
// the rules it was made under, and so that the workflow reads no configuration.
type Input struct {
	BookingID  string    `json:"booking_id"`
	ProviderID string    `json:"provider_id"`
	ServiceID  string    `json:"service_id"`
	PatientID  string    `json:"patient_id"`
	Start      time.Time `json:"start"`
	Notes      string    `json:"notes,omitempty"`
	Policy     Policy    `json:"policy"`
	// Resume starts a new run for a booking that exists already, whose workflow is gone
	// (terminated from the Web UI, failed, lost with a namespace): the run reads the booking
	// from the database and carries on from its status instead of holding a slot. The
	// reconciler starts such runs.
	Resume bool `json:"resume,omitempty"`
}

// Policy is the timing of a booking's life.
type Policy struct {
	HoldTTL          time.Duration   `json:"hold_ttl"`
	ReminderOffsets  []time.Duration `json:"reminder_offsets"`
	NoShowGrace      time.Duration   `json:"no_show_grace"`
	LateCancelWindow time.Duration   `json:"late_cancel_window"`
	// CheckInEarly is how long before the start a check-in is accepted.
	CheckInEarly time.Duration `json:"check_in_early"`
	// HoldRequestWait is how long a started workflow waits for its hold update before giving
	// up; it only matters when the caller died between starting it and asking for the hold.
	HoldRequestWait time.Duration `json:"hold_request_wait"`
	// MaxActiveBookings caps the patient's future held or confirmed bookings, this one
	// included; 0 does not cap.
	MaxActiveBookings int `json:"max_active_bookings,omitempty"`
	// MaxReschedules caps how often the booking may be moved; nil (bookings made before
	// the cap) does not cap.
	MaxReschedules *int `json:"max_reschedules,omitempty"`
}

// CancelRequest asks for a cancellation.
type CancelRequest struct {
	// Reason is free text, kept on the booking; it never goes out in a message.
	Reason string `json:"reason,omitempty"`
	// ReasonCode is one of domain.CancelReasons, which staff may give; its text does go out.
	ReasonCode string `json:"reason_code,omitempty"`
	// By is the user id of who asked, or "system".
	By string `json:"by"`
}

// RescheduleRequest asks to move the booking.
type RescheduleRequest struct {
	Start time.Time `json:"start"`
	By    string    `json:"by"`
}

// CheckInRequest records who checked the patient in.
type CheckInRequest struct {
	By string `json:"by"`
}

// Summary is the query answer: everything an admin wants to read about the booking.
type Summary struct {
	Booking       domain.Booking `json:"booking"`
	Reminders     []Reminder     `json:"reminders"`
	Compensations []string       `json:"compensations"`
	Log           []LogEntry     `json:"log"`
}

// Reminder is one planned reminder of the current revision.
type Reminder struct {
	Offset string    `json:"offset"`
	At     time.Time `json:"at"`
	State  string    `json:"state"` // planned, sent, skipped, dropped
}

// LogEntry is one step the workflow took, in workflow time.
type LogEntry struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
}
