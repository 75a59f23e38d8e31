package activities

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/activities/contract"
	"github.com/clinicbook/booking/domain"
)

func TestOvertakenMessagesAreNotSentLate(t *testing.T) {
	start := time.Date(2030, 1, 9, 9, 0, 0, 0, time.UTC)
	before := start.Add(-3 * time.Hour)
	confirmed := domain.Booking{Status: domain.StatusConfirmed, Start: start, Revision: 1}
	cancelled := confirmed
	cancelled.Status = domain.StatusCancelled
	cases := []struct {
		name string
		b    domain.Booking
		in   contract.NotifyInput
		now  time.Time
		skip bool
	}{
		{"reminder of a confirmed booking", confirmed, contract.NotifyInput{Kind: domain.NotifyReminder, Revision: 1}, before, false},
		{"reminder after a cancel", cancelled, contract.NotifyInput{Kind: domain.NotifyReminder, Revision: 1}, before, true},
		{"reminder of the time before a reschedule", confirmed, contract.NotifyInput{Kind: domain.NotifyReminder, Revision: 0}, before, true},
		{"reminder after the start", confirmed, contract.NotifyInput{Kind: domain.NotifyReminder, Revision: 1}, start.Add(time.Minute), true},
		{"confirmation of the time before a reschedule", confirmed, contract.NotifyInput{Kind: domain.NotifyConfirmation, Revision: 0}, before, true},
		{"confirmation of a booking cancelled since", cancelled, contract.NotifyInput{Kind: domain.NotifyConfirmation, Revision: 1}, before, true},
		{"confirmation", confirmed, contract.NotifyInput{Kind: domain.NotifyConfirmation, Revision: 1}, before, false},
		{"cancellation always goes", cancelled, contract.NotifyInput{Kind: domain.NotifyCancellation, Revision: 0}, start.Add(time.Hour), false},
		{"no-show always goes", domain.Booking{Status: domain.StatusNoShow, Start: start}, contract.NotifyInput{Kind: domain.NotifyNoShow}, start.Add(time.Hour), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.skip, overtaken(c.b, c.in, c.now) != "")
		})
	}
}
