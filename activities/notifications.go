package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"

	"github.com/clinicbook/booking/activities/contract"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/notify"
)

// SMSSender sends text messages (notify.SMS through Twilio).
type SMSSender interface {
	Send(ctx context.Context, to, body string) (sid string, err error)
	// FindSent lists the messages to `to` with this body accepted since `since`, oldest first:
	// how a send whose outcome we never heard (the worker died mid-request) is settled without
	// sending twice.
	FindSent(ctx context.Context, to, body string, since time.Time) (sids []string, err error)
}

// EmailSender sends mail (notify.Mailer over SMTP).
type EmailSender interface {
	Send(ctx context.Context, msg notify.Email) error
}

// EmailFinder asks the mail relay whether it accepted a message (notify.MailLookup).
type EmailFinder interface {
	FindSent(ctx context.Context, messageID string) (found bool, err error)
}

// Notifier holds the senders.
type Notifier struct {
	SMS   SMSSender
	Email EmailSender
	// EmailLookup settles an email whose send was never acknowledged; nil when the relay
	// cannot be asked, and then such an email is sent again.
	EmailLookup   EmailFinder
	PublicBaseURL string
	// Organizer is the clinic's address on calendar invites, SMTP_FROM.
	Organizer string
}

// SendNotification sends one message at most once. The row is written before the send and
// updated after it; a retry finds it and does not send again once the provider accepted.
// If an earlier attempt died mid-send (status sending), the provider is asked first: Twilio
// for an SMS, the relay's API for an email when there is one (EmailLookup). Without it, that
// narrow window is the one place a duplicate email is possible.
func (a *Activities) SendNotification(ctx context.Context, in contract.NotifyInput) (contract.NotifyResult, error) {
	b, err := a.Store.GetBooking(ctx, in.BookingID)
	if err != nil {
		return contract.NotifyResult{}, activityError(err)
	}
	patient, err := a.Store.GetUser(ctx, b.PatientID)
	if err != nil {
		return contract.NotifyResult{}, activityError(err)
	}
	recipient := patient.Email
	if in.Channel == domain.ChannelSMS {
		recipient = patient.Phone
	}
	n, err := a.Store.EnsureNotification(ctx, domain.Notification{
		ID: uuid.NewString(), BookingID: b.ID, Kind: in.Kind, Variant: in.Variant, Channel: in.Channel,
		Revision: in.Revision, Recipient: recipient,
	})
	if err != nil {
		return contract.NotifyResult{}, err
	}
	result := contract.NotifyResult{NotificationID: n.ID, Status: n.Status}
	if n.Status != domain.NotificationPending && n.Status != domain.NotificationSending {
		return result, nil // sent (or refused for good) by an earlier run
	}
	if recipient == "" {
		result.Status = domain.NotificationFailed
		return result, a.Store.MarkNotificationFailed(ctx, n.ID, "the patient has no "+in.Channel+" address")
	}
	if n.Status == domain.NotificationPending && !contactVerified(patient, in.Channel) {
		// The address may be anyone's: whoever signed up typed it in.
		result.Status = domain.NotificationSkipped
		return result, a.Store.MarkNotificationSkipped(ctx, n.ID, "the patient's "+in.Channel+" is not verified")
	}
	if n.Status == domain.NotificationPending {
		if why := overtaken(b, in, a.Now()); why != "" {
			result.Status = domain.NotificationSkipped
			return result, a.Store.MarkNotificationSkipped(ctx, n.ID, why)
		}
	}

	msg, err := a.render(ctx, b, patient, in)
	if err != nil {
		return contract.NotifyResult{}, err
	}

	if n.Status == domain.NotificationSending {
		earlier, err := a.findEarlierSend(ctx, n, recipient, msg.SMS)
		if err != nil {
			return contract.NotifyResult{}, fmt.Errorf("look up earlier send: %w", err)
		}
		if earlier.found {
			activity.GetLogger(ctx).Info("earlier send had reached the provider; not sending again",
				"channel", in.Channel, "provider_id", earlier.providerID)
			result.Status = domain.NotificationSent
			return result, a.markSent(ctx, n.ID, earlier.providerID)
		}
		// It never reached the provider: this is the first send after all, and what has
		// happened since may have overtaken it, as for a message still pending.
		if earlier.checked {
			if why := overtaken(b, in, a.Now()); why != "" {
				result.Status = domain.NotificationSkipped
				return result, a.Store.MarkNotificationSkipped(ctx, n.ID, why)
			}
		}
	}

	if in.Channel == domain.ChannelSMS {
		err = a.Store.MarkSMSSending(ctx, n.ID, msg.SMS)
	} else {
		err = a.Store.MarkNotificationSending(ctx, n.ID)
	}
	if err != nil {
		return contract.NotifyResult{}, err
	}
	var providerID string
	if in.Channel == domain.ChannelSMS {
		providerID, err = a.SMS.Send(ctx, recipient, msg.SMS)
	} else {
		err = a.Email.Send(ctx, msg.email(recipient, n.ID))
	}
	if err != nil {
		if notify.IsPermanent(err) {
			result.Status = domain.NotificationFailed
			return result, a.Store.MarkNotificationFailed(ctx, n.ID, err.Error())
		}
		_ = a.Store.NoteNotificationError(ctx, n.ID, err.Error())
		return contract.NotifyResult{}, fmt.Errorf("send %s %s: %w", in.Kind, in.Channel, err)
	}
	result.Status = domain.NotificationSent
	return result, a.markSent(ctx, n.ID, providerID)
}

// earlierSend is what the provider says of an attempt that died mid-send.
type earlierSend struct {
	checked    bool // the provider could be asked
	found      bool
	providerID string
}

// findEarlierSend asks the provider whether the attempt that left n in status sending got
// through.
func (a *Activities) findEarlierSend(ctx context.Context, n domain.Notification, recipient, smsText string) (earlierSend, error) {
	if n.Channel == domain.ChannelEmail {
		if a.EmailLookup == nil {
			return earlierSend{}, nil
		}
		found, err := a.EmailLookup.FindSent(ctx, messageID(n.ID))
		return earlierSend{checked: true, found: found}, err
	}
	// Look for the text the earlier attempt sent, not the one rendered now: the booking may
	// have moved since (a reschedule during a Twilio outage), and the new text would not be
	// found and go out a second time.
	text, err := a.Store.SentSMSText(ctx, n.ID)
	if err != nil {
		return earlierSend{}, err
	}
	if text == "" {
		text = smsText // begun before the text was kept
	}
	sids, err := a.SMS.FindSent(ctx, recipient, text, n.UpdatedAt.Add(-time.Minute))
	if err != nil || len(sids) == 0 {
		return earlierSend{checked: err == nil}, err
	}
	// The same text may have gone out for another notification: a patient who cancelled and
	// booked the same slot again gets the same confirmation twice. A message another row holds
	// is that row's, not this attempt's (found by make chaos: the row took another's SID and
	// could never be marked sent).
	claimed, err := a.Store.ClaimedProviderIDs(ctx, n.ID, sids)
	if err != nil {
		return earlierSend{}, err
	}
	for _, sid := range sids {
		if !claimed[sid] {
			return earlierSend{checked: true, found: true, providerID: sid}, nil
		}
	}
	return earlierSend{checked: true}, nil
}

// markSent records an accepted send, waiting out a short database outage first: once the
// provider has the message, failing here would leave the row in status sending, and the
// retry could only settle it by asking the provider (or, for an email with no relay lookup,
// by sending it again).
func (a *Activities) markSent(ctx context.Context, id, providerID string) error {
	wait := 250 * time.Millisecond
	for {
		err := a.Store.MarkNotificationSent(ctx, id, providerID)
		if err == nil || wait > 8*time.Second {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// contactVerified reports whether the patient proved they read channel's address.
func contactVerified(u domain.User, channel string) bool {
	if channel == domain.ChannelSMS {
		return u.PhoneVerified
	}
	return u.EmailVerified
}

// overtaken says why a message no longer fits the booking, "" when it still does. Sends retry
// for hours while a provider is down, and the booking may move on meanwhile: a reminder for a
// booking since cancelled, or a confirmation of a time since moved, must not go out late.
// A message already under way (status sending) is settled first: skipped only once the
// provider shows it never arrived (an email with no relay lookup is sent).
func overtaken(b domain.Booking, in contract.NotifyInput, now time.Time) string {
	switch in.Kind {
	case domain.NotifyReminder:
		if b.Status != domain.StatusConfirmed || b.Revision != in.Revision {
			return "the booking changed before the reminder could go out"
		}
		if !now.Before(b.Start) {
			return "the appointment had started before the reminder could go out"
		}
	case domain.NotifyConfirmation, domain.NotifyReschedule:
		if b.Revision != in.Revision || (b.Status != domain.StatusConfirmed && b.Status != domain.StatusCheckedIn) {
			return "the booking changed before the message could go out"
		}
	}
	return ""
}

// message is a rendered notification with its calendar part.
type message struct {
	notify.Rendered
	ics       []byte
	icsMethod string
}

func (m message) email(to, notificationID string) notify.Email {
	return notify.Email{
		To: to, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
		MessageID: messageID(notificationID),
		ICS:       m.ics, ICSMethod: m.icsMethod,
	}
}

// messageID is the Message-ID of a notification's email: the same on every attempt, so the
// relay can be asked for it and mail systems can recognise a duplicate.
func messageID(notificationID string) string {
	return "<" + notificationID + "@clinicbook>"
}

func (a *Activities) render(ctx context.Context, b domain.Booking, patient domain.User, in contract.NotifyInput) (message, error) {
	prov, err := a.Store.GetProvider(ctx, b.ProviderID)
	if err != nil {
		return message{}, activityError(err)
	}
	svc, err := a.Store.GetService(ctx, b.ServiceID)
	if err != nil {
		return message{}, activityError(err)
	}
	d := notify.BookingData(b, patient, prov, svc, a.Organizer, a.PublicBaseURL)
	d.Reminder, d.OldStart = in.Variant, in.OldStart
	r, err := notify.Render(in.Kind, d)
	if err != nil {
		return message{}, activityError(domain.Errorf(domain.KindInvalid, "render %s: %v", in.Kind, err))
	}
	m := message{Rendered: r}
	switch in.Kind {
	case domain.NotifyConfirmation, domain.NotifyReschedule:
		m.icsMethod = "REQUEST"
	case domain.NotifyCancellation:
		m.icsMethod = "CANCEL"
	}
	if m.icsMethod != "" && in.Channel == domain.ChannelEmail {
		if m.ics, err = notify.Invite(d, m.icsMethod, b.Revision); err != nil {
			return message{}, fmt.Errorf("invite: %w", err)
		}
	}
	return m, nil
}
