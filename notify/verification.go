package notify

import (
	"context"
	"fmt"

	"github.com/clinicbook/booking/domain"
)

// VerificationSubject is the subject of the verification email.
const VerificationSubject = "Your clinic verification code"

// VerificationText is the whole text of a verification message, SMS or email. It is the
// clinic's fixed wording around the code and nothing else: not even the account's name, since
// an attacker could sign up with someone else's address and choose a name that reads as a
// message of their own.
func VerificationText(code string) string {
	return fmt.Sprintf("Your clinic verification code is %s. It expires in 10 minutes.", code)
}

// CodeSender sends verification codes (auth.CodeSender) through the platform's SMS and mail
// senders.
type CodeSender struct {
	SMS   *SMS
	Email *Mailer
}

// SendCode sends code to `to` over channel ("sms" or "email") and returns once the provider
// accepted it.
func (c CodeSender) SendCode(ctx context.Context, channel, to, code string) error {
	text := VerificationText(code)
	switch channel {
	case domain.ChannelSMS:
		if c.SMS == nil {
			return fmt.Errorf("send code: no SMS sender")
		}
		_, err := c.SMS.Send(ctx, to, text)
		return err
	case domain.ChannelEmail:
		if c.Email == nil {
			return fmt.Errorf("send code: no mailer")
		}
		return c.Email.Send(ctx, Email{To: to, Subject: VerificationSubject, Text: text})
	}
	return fmt.Errorf("send code: unknown channel %q", channel)
}
