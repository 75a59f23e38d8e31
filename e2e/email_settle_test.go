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
	"github.com/clinicbook/booking/notify/notifytest"
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
	const email = "settle-mail@example.com"
	patientID, _ := p.patient(email, "+15550405011")
	id := p.insertConfirmed(patientID, tomorrowAt(9, 0), 30*time.Minute)
	in := contract.NotifyInput{BookingID: id, Kind: domain.NotifyConfirmation, Channel: domain.ChannelEmail}

	lost := p.notifier()
	lost.Email = answerLost{notify.NewMailer(p.cfg.SMTP)}
	_, err := sendOnceWith(t, p, in, lost)
	require.Error(t, err)
	n, err := p.notification(id, domain.NotifyConfirmation, domain.ChannelEmail)
	require.NoError(t, err)
	require.Equal(t, domain.NotificationSending, n.Status)
	require.Len(t, mailTo(t, p, email), 1)

	p.moveTo(id, tomorrowAt(11, 0), 1)
	res, err := sendOnce(t, p, in)
	require.NoError(t, err)
	require.Equal(t, domain.NotificationSent, res.Status)
	require.Len(t, mailTo(t, p, email), 1, "the confirmation email went out twice")
}

// The other side: the relay never got it (down for the first attempt) and the booking moved
// meanwhile. Asked, the relay says so, and the confirmation of the old time is skipped as
// overtaken. Without a lookup (a relay with no API) it would have to be sent.
func TestEmailThatNeverLeftIsSkippedOnceOvertaken(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	const email = "settle-mail2@example.com"
	patientID, _ := p.patient(email, "+15550405012")
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
	require.Empty(t, mailTo(t, p, email))
}

// mailTo is the mail Mailpit holds for one address once it has settled: it waits for the
// count to hold still, so a late second copy is counted.
func mailTo(t *testing.T, p *platform, to string) []notifytest.MailSummary {
	t.Helper()
	var got []notifytest.MailSummary
	same := 0
	for i := 0; i < 50 && same < 3; i++ {
		l, err := listMail(p.mailAPI, to)
		require.NoError(t, err)
		if len(l) == len(got) {
			same++
		} else {
			same = 0
		}
		got = l
		time.Sleep(100 * time.Millisecond)
	}
	return got
}
