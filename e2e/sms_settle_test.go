package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/clinicbook/booking/activities"
	"github.com/clinicbook/booking/activities/contract"
	"github.com/clinicbook/booking/app"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/twiliosandbox"
)

// Found by `make chaos` (issue 15): Twilio took a confirmation SMS but its answer was lost;
// before the retry the booking moved. The retry looked for the text rendered anew (the new
// time), did not find it, and sent the confirmation a second time. It must look for the text
// it sent, and find it.
func TestSMSOfUnknownOutcomeIsSettledByTheTextSent(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	const phone = "+15550405001"
	patientID, _ := p.patient("settle@example.com", phone)
	id := p.insertConfirmed(patientID, tomorrowAt(9, 0), 30*time.Minute)
	in := contract.NotifyInput{BookingID: id, Kind: domain.NotifyConfirmation, Channel: domain.ChannelSMS}

	// Twilio takes the message and the answer never comes.
	require.NoError(t, p.sandbox.Fail(1, twiliosandbox.Fault{Mode: twiliosandbox.FailAcceptThenTimeout, Hold: 200 * time.Millisecond}))
	_, err := sendOnce(t, p, in)
	require.Error(t, err)
	require.Len(t, p.smsTo(phone), 1)
	n, err := p.notification(id, domain.NotifyConfirmation, domain.ChannelSMS)
	require.NoError(t, err)
	require.Equal(t, domain.NotificationSending, n.Status)

	p.moveTo(id, tomorrowAt(11, 0), 1)
	res, err := sendOnce(t, p, in)
	require.NoError(t, err)
	require.Equal(t, domain.NotificationSent, res.Status)
	sent := p.smsTo(phone)
	require.Len(t, sent, 1, "the confirmation went out twice: %+v", sent)
	n, err = p.notification(id, domain.NotifyConfirmation, domain.ChannelSMS)
	require.NoError(t, err)
	require.Equal(t, sent[0].SID, n.ProviderMessageID)
}

// The other side: the earlier attempt never reached Twilio, and the booking moved meanwhile.
// The confirmation of the old time is overtaken, as one still pending would be: skipped, not
// sent late (the reschedule notice tells the patient).
func TestSMSThatNeverLeftIsSkippedOnceOvertaken(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	const phone = "+15550405002"
	patientID, _ := p.patient("settle2@example.com", phone)
	id := p.insertConfirmed(patientID, tomorrowAt(9, 0), 30*time.Minute)
	in := contract.NotifyInput{BookingID: id, Kind: domain.NotifyConfirmation, Channel: domain.ChannelSMS}

	require.NoError(t, p.sandbox.Fail(1, twiliosandbox.Fault{Mode: twiliosandbox.FailTimeout, Hold: 200 * time.Millisecond}))
	_, err := sendOnce(t, p, in)
	require.Error(t, err)
	require.Empty(t, p.smsTo(phone))

	p.moveTo(id, tomorrowAt(11, 0), 1)
	res, err := sendOnce(t, p, in)
	require.NoError(t, err)
	require.Equal(t, domain.NotificationSkipped, res.Status)
	require.Empty(t, p.smsTo(phone))
}

// moveTo reschedules a booking in the database, as the workflow's move does.
func (p *platform) moveTo(id string, start time.Time, revision int) {
	p.t.Helper()
	_, err := p.st.Move(context.Background(), id, start, start.Add(30*time.Minute), revision, store.EventInput{})
	require.NoError(p.t, err)
}

// sendOnce runs one attempt of the SendNotification activity (no retries) with the
// platform's senders.
func sendOnce(t *testing.T, p *platform, in contract.NotifyInput) (contract.NotifyResult, error) {
	t.Helper()
	return sendOnceWith(t, p, in, p.notifier())
}

// notifier is the platform's, as app wires it: Twilio (the sandbox) and Mailpit, with
// Mailpit's lookup.
func (p *platform) notifier() activities.Notifier {
	return app.NewActivities(p.st, p.cfg).Notifier
}

func sendOnceWith(t *testing.T, p *platform, in contract.NotifyInput, n activities.Notifier) (contract.NotifyResult, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	acts := app.NewActivities(p.st, p.cfg)
	acts.Notifier = n
	env.RegisterActivity(acts)
	var res contract.NotifyResult
	v, err := env.ExecuteActivity(acts.SendNotification, in)
	if err != nil {
		return res, err
	}
	require.NoError(t, v.Get(&res))
	return res, nil
}
