package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/activities/contract"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/notify"
)

// answerLost sends through the real relay and then reports a timeout, as a worker sees it
// when it dies (or its connection drops) after the relay's 250 and before the row says sent.
type answerLost struct{ *notify.Mailer }

func (a answerLost) Send(ctx context.Context, msg notify.Email) error {
	if err := a.Mailer.Send(ctx, msg); err != nil {
		return err
	}
	return &notify.SendError{Channel: domain.ChannelEmail, Err: errors.New("i/o timeout after DATA")}
}

// Found by `make chaos -temporal server` (issue 15): a worker killed just after Mailpit took a
// confirmation email, before the row was marked sent, sent it again on the retry. The retry
// now asks the relay for the email's Message-ID and finds it, even after the booking moved.
func TestEmailOfUnknownOutcomeIsSettledByTheRelay(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	const email, phone = "settle-mail@example.com", "+15550405011"
	patientID, _ := p.patient(email, phone)
	id := p.insertConfirmed(patientID, tomorrowAt(9, 0), 30*time.Minute)
	in := contract.NotifyInput{BookingID: id, Kind: domain.NotifyConfirmation, Channel: domain.ChannelEmail}

	lost := p.notifier()
	lost.Email = answerLost{notify.NewMailer(p.cfg.SMTP)}
	_, err := sendOnceWith(t, p, in, lost)
	require.Error(t, err)
	n, err := p.notification(id, domain.NotifyConfirmation, domain.ChannelEmail)
	require.NoError(t, err)
	require.Equal(t, domain.NotificationSending, n.Status)
	p.waitForMessages(phone, email, 0, 1)

	p.moveTo(id, tomorrowAt(11, 0), 1)
	res, err := sendOnce(t, p, in)
	require.NoError(t, err)
	require.Equal(t, domain.NotificationSent, res.Status)
	p.requireNoMoreMessages(phone, email, 0, 1) // the confirmation email did not go out twice
}

// The other side: the relay never got it (down for the first attempt) and the booking moved
// meanwhile. Asked, the relay says so, and the confirmation of the old time is skipped as
// overtaken. Without a lookup (a relay with no API) it would have to be sent.
func TestEmailThatNeverLeftIsSkippedOnceOvertaken(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	const email, phone = "settle-mail2@example.com", "+15550405012"
	patientID, _ := p.patient(email, phone)
	id := p.insertConfirmed(patientID, tomorrowAt(9, 0), 30*time.Minute)
	in := contract.NotifyInput{BookingID: id, Kind: domain.NotifyConfirmation, Channel: domain.ChannelEmail}

	down := p.notifier()
	cfg := p.cfg.SMTP
	cfg.Port = 1 // nothing listens: the send fails before the relay sees it
	down.Email = notify.NewMailer(cfg)
	_, err := sendOnceWith(t, p, in, down)
	require.Error(t, err)
	n, err := p.notification(id, domain.NotifyConfirmation, domain.ChannelEmail)
	require.NoError(t, err)
	require.Equal(t, domain.NotificationSending, n.Status)

	p.moveTo(id, tomorrowAt(11, 0), 1)
	res, err := sendOnce(t, p, in)
	require.NoError(t, err)
	require.Equal(t, domain.NotificationSkipped, res.Status)
	p.requireNoMoreMessages(phone, email, 0, 0)
}
