package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/notify"
	"github.com/clinicbook/booking/notify/notifytest"
)

// FindSent is how a send whose answer was lost is settled: it must find exactly the message
// Twilio accepted, by recipient, body and time, through twilio-go's own list call.
func TestFindSentSettlesALostAnswer(t *testing.T) {
	_, base := notifytest.StartSandbox(t, notifytest.SandboxConfig())
	sms := notify.NewSMS(notifytest.TwilioConfig(base), "")
	ctx := context.Background()
	before := time.Now().Add(-time.Second)

	sids, err := sms.FindSent(ctx, "+15550009999", "Your booking is confirmed.", before)
	require.NoError(t, err)
	require.Empty(t, sids, "nothing was sent yet")

	sid, err := sms.Send(ctx, "+15550009999", "Your booking is confirmed.")
	require.NoError(t, err)
	_, err = sms.Send(ctx, "+15550008888", "Your booking is confirmed.")
	require.NoError(t, err)

	sids, err = sms.FindSent(ctx, "+15550009999", "Your booking is confirmed.", before)
	require.NoError(t, err)
	require.Equal(t, []string{sid}, sids)

	// The same text again (a slot cancelled and booked again): both, oldest first, for the
	// caller to tell whose is whose.
	again, err := sms.Send(ctx, "+15550009999", "Your booking is confirmed.")
	require.NoError(t, err)
	sids, err = sms.FindSent(ctx, "+15550009999", "Your booking is confirmed.", before)
	require.NoError(t, err)
	require.Equal(t, []string{sid, again}, sids)

	sids, err = sms.FindSent(ctx, "+15550009999", "Another text.", before)
	require.NoError(t, err)
	require.Empty(t, sids, "another body is another message")

	sids, err = sms.FindSent(ctx, "+15550009999", "Your booking is confirmed.", time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Empty(t, sids, "a message from before the attempt is not this attempt's")
}
