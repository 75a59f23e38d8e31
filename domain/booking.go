package domain

import "time"

// Status is where a booking stands in its lifecycle.
type Status string

const (
	StatusHeld      Status = "held"
	StatusConfirmed Status = "confirmed"
	StatusCheckedIn Status = "checked_in"
	StatusCompleted Status = "completed"
	StatusExpired   Status = "expired"
	StatusCancelled Status = "cancelled"
	StatusNoShow    Status = "no_show"
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{StatusHeld, StatusConfirmed, StatusCheckedIn, StatusCompleted, StatusExpired, StatusCancelled, StatusNoShow}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// Occupies reports whether a booking in this status keeps its slot from others.
// The database's exclusion constraint uses the same list.
func (s Status) Occupies() bool {
	return s == StatusHeld || s == StatusConfirmed || s == StatusCheckedIn
}

// Terminal reports whether nothing more happens to a booking in this status.
func (s Status) Terminal() bool {
	return s == StatusCompleted || s == StatusExpired || s == StatusCancelled || s == StatusNoShow
}

// Role is what a user may do.
type Role string

const (
	RolePatient  Role = "patient"
	RoleProvider Role = "provider"
	RoleAdmin    Role = "admin"
)

// User is anyone who logs in.
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Phone        string    `json:"phone"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"-"`
	// EmailVerified and PhoneVerified say the user proved they read that address with a code;
	// messages go to verified addresses only.
	EmailVerified bool `json:"email_verified"`
	PhoneVerified bool `json:"phone_verified"`
}

// Provider is a doctor whose time can be booked.
type Provider struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Specialty string `json:"specialty"`
	TimeZone  string `json:"time_zone"`
	// UserID is the provider's own login, when they have one.
	UserID string `json:"-"`
}

// Service is a kind of appointment with a fixed length.
type Service struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	DurationMinutes int    `json:"duration_minutes"`
}

// Duration is the appointment's length.
func (s Service) Duration() time.Duration { return time.Duration(s.DurationMinutes) * time.Minute }

// Slot is a free interval [Start, End).
type Slot struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Booking is one appointment, from hold to its end.
type Booking struct {
	ID            string     `json:"id"`
	Status        Status     `json:"status"`
	ProviderID    string     `json:"provider_id"`
	ServiceID     string     `json:"service_id"`
	PatientID     string     `json:"patient_id"`
	Start         time.Time  `json:"start"`
	End           time.Time  `json:"end"`
	HoldExpiresAt *time.Time `json:"hold_expires_at,omitempty"`
	Notes         string     `json:"notes,omitempty"`
	CancelReason  string     `json:"cancel_reason,omitempty"`
	// CancelReasonCode is one of CancelReasons, given by staff; its text goes to the patient.
	CancelReasonCode string `json:"cancel_reason_code,omitempty"`
	LateCancel       bool   `json:"late_cancel,omitempty"`
	// Revision counts reschedules; notifications are unique per revision.
	Revision  int       `json:"revision"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Event is one entry of a booking's timeline.
type Event struct {
	At     time.Time      `json:"at"`
	Type   string         `json:"type"`
	Detail map[string]any `json:"detail,omitempty"`
}

// Notification kinds.
const (
	NotifyConfirmation = "confirmation"
	NotifyReminder     = "reminder"
	NotifyCancellation = "cancellation"
	NotifyReschedule   = "reschedule"
	NotifyNoShow       = "no_show"
	NotifyHoldExpired  = "hold_expired"
)

// Notification channels.
const (
	ChannelSMS   = "sms"
	ChannelEmail = "email"
)

// Notification delivery states (Notification.Status). A row is pending when written, sending while a send may be
// under way (its outcome unknown if the worker dies there), sent once the provider accepted it,
// then queued/delivered/undelivered as Twilio reports; failed when the provider refused it for
// good.
const (
	NotificationPending   = "pending"
	NotificationSending   = "sending"
	NotificationSent      = "sent"
	NotificationFailed    = "failed"
	NotificationSkipped   = "skipped"
	NotificationDelivered = "delivered"
)

// Notification is one message to a patient on one channel.
type Notification struct {
	ID                string    `json:"id"`
	BookingID         string    `json:"booking_id"`
	Kind              string    `json:"kind"`
	Variant           string    `json:"variant,omitempty"`
	Channel           string    `json:"channel"`
	Revision          int       `json:"revision"`
	Recipient         string    `json:"recipient"`
	Status            string    `json:"status"`
	ProviderMessageID string    `json:"provider_message_id,omitempty"`
	Error             string    `json:"error,omitempty"`
	Attempts          int       `json:"attempts"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// WorkingHours is one interval of a weekly schedule, in the provider's wall-clock time.
// Start and End are minutes after local midnight.
type WorkingHours struct {
	Weekday time.Weekday `json:"weekday"`
	Start   Clock        `json:"start"`
	End     Clock        `json:"end"`
}

// Exception changes one local date: Closed, or the given hours instead of the weekly ones.
type Exception struct {
	Date   Date        `json:"date"`
	Closed bool        `json:"closed"`
	Hours  []TimeRange `json:"hours,omitempty"`
}

// TimeRange is a wall-clock interval within one day.
type TimeRange struct {
	Start Clock `json:"start"`
	End   Clock `json:"end"`
}

// Schedule is a provider's weekly working hours plus dated exceptions.
type Schedule struct {
	TimeZone   string         `json:"time_zone"`
	Weekly     []WorkingHours `json:"weekly"`
	Exceptions []Exception    `json:"exceptions"`
}

// Principal is who is asking: the authenticated caller of a request.
type Principal struct {
	UserID string
	Role   Role
}
