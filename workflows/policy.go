package workflows

import (
	"time"

	"github.com/clinicbook/booking/config"
)

// NewPolicy is the policy a booking gets under cfg: what the API copies into a new booking's
// workflow and what the reconciler gives a resumed one.
func NewPolicy(cfg config.Config) Policy {
	// A copy: the policy travels in workflow inputs and must not alias the configuration.
	maxReschedules := cfg.Limits.MaxReschedules
	return Policy{
		HoldTTL:           cfg.HoldTTL,
		ReminderOffsets:   cfg.ReminderOffsets,
		NoShowGrace:       cfg.NoShowGrace,
		LateCancelWindow:  cfg.LateCancelWindow,
		CheckInEarly:      time.Hour,
		HoldRequestWait:   time.Minute,
		MaxActiveBookings: cfg.Limits.MaxActiveBookings,
		MaxReschedules:    &maxReschedules,
	}
}
