package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
)

// DefaultMailTimeout bounds each SMTP step of a send whose context has no earlier deadline.
const DefaultMailTimeout = 30 * time.Second

// Calendar methods for Email.ICSMethod.
const (
	ICSRequest = "REQUEST"
	ICSCancel  = "CANCEL"
)

// Email is one message to a patient.
type Email struct {
	To      string
	Subject string
	Text    string
	HTML    string
	// MessageID becomes the Message-ID header (angle brackets optional), so a resend of the
	// same notification carries the same id and mail systems can recognise the duplicate.
	// Empty means a random one.
	MessageID string
	// ICS, when set, is attached as invite.ics with content type text/calendar and ICSMethod
	// (REQUEST, the default, or CANCEL) as its method parameter.
	ICS       []byte
	ICSMethod string
}

// Mailer sends email through an SMTP relay.
type Mailer struct {
	cfg config.SMTP
}

// NewMailer builds a mailer for the relay in cfg; nothing is dialled until Send.
func NewMailer(cfg config.SMTP) *Mailer {
	return &Mailer{cfg: cfg}
}

// Send delivers msg over a fresh SMTP connection. Failures are *SendError values: a 5xx
// reply (a refused recipient, sender or message, failed authentication) and malformed
// addresses are permanent; 4xx replies, timeouts and network errors are temporary.
func (m *Mailer) Send(ctx context.Context, msg Email) error {
	if err := ctx.Err(); err != nil {
		return &SendError{Channel: domain.ChannelEmail, Err: err}
	}
	mm, err := m.build(msg)
	if err != nil {
		return &SendError{Channel: domain.ChannelEmail, Permanent: true, Err: err}
	}
	c, err := m.client(ctx)
	if err != nil {
		return &SendError{Channel: domain.ChannelEmail, Permanent: true, Err: err}
	}
	if err := c.DialAndSendWithContext(ctx, mm); err != nil {
		return classifyMail(ctx, err)
	}
	return nil
}

func (m *Mailer) build(msg Email) (*mail.Msg, error) {
	mm := mail.NewMsg()
	if err := mm.From(m.cfg.From); err != nil {
		return nil, fmt.Errorf("sender %q: %w", m.cfg.From, err)
	}
	if err := mm.To(msg.To); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", msg.To, err)
	}
	mm.Subject(msg.Subject)
	mm.SetDate()
	if id := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(msg.MessageID), "<"), ">"); id != "" {
		mm.SetMessageIDWithValue(id)
	} else {
		mm.SetMessageID()
	}
	switch {
	case msg.Text != "" && msg.HTML != "":
		mm.SetBodyString(mail.TypeTextPlain, msg.Text)
		mm.AddAlternativeString(mail.TypeTextHTML, msg.HTML)
	case msg.HTML != "":
		mm.SetBodyString(mail.TypeTextHTML, msg.HTML)
	case msg.Text != "":
		mm.SetBodyString(mail.TypeTextPlain, msg.Text)
	default:
		return nil, errors.New("email has neither a text nor an HTML body")
	}
	if len(msg.ICS) > 0 {
		method := strings.ToUpper(msg.ICSMethod)
		if method == "" {
			method = ICSRequest
		}
		if method != ICSRequest && method != ICSCancel {
			return nil, fmt.Errorf("calendar method %q: want REQUEST or CANCEL", msg.ICSMethod)
		}
		// Calendar clients read the method from the MIME type to decide between offering the
		// invite and removing the event.
		ctype := mail.ContentType("text/calendar; method=" + method + "; charset=utf-8")
		if err := mm.AttachReader("invite.ics", bytes.NewReader(msg.ICS), mail.WithFileContentType(ctype)); err != nil {
			return nil, fmt.Errorf("attach invite: %w", err)
		}
	}
	return mm, nil
}

func (m *Mailer) client(ctx context.Context) (*mail.Client, error) {
	// go-mail uses ctx only to dial; afterwards each SMTP step has its own timeout, so that
	// timeout is cut to what is left of ctx's deadline.
	timeout := DefaultMailTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, max(time.Until(dl), time.Millisecond))
	}
	opts := []mail.Option{mail.WithPort(m.cfg.Port), mail.WithTimeout(timeout)}
	switch m.cfg.TLS {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "starttls":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case "none", "":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		return nil, fmt.Errorf("smtp tls mode %q: want none, starttls or tls", m.cfg.TLS)
	}
	if m.cfg.Username != "" {
		// Over TLS the strongest mechanism the server offers is used. Without TLS only PLAIN
		// is tried, which go-mail allows to localhost alone: a password never crosses a
		// network in clear text.
		auth := mail.SMTPAuthAutoDiscover
		if m.cfg.TLS == "none" || m.cfg.TLS == "" {
			auth = mail.SMTPAuthPlain
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(m.cfg.Username), mail.WithPassword(m.cfg.Password))
	}
	c, err := mail.NewClient(m.cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client for %s:%d: %w", m.cfg.Host, m.cfg.Port, err)
	}
	return c, nil
}

// classifyMail: an SMTP 5xx reply is the server's final word on this message (or on our
// credentials); everything else may succeed later.
func classifyMail(ctx context.Context, err error) error {
	se := &SendError{Channel: domain.ChannelEmail, Err: err}
	var sendErr *mail.SendError
	var protoErr *textproto.Error
	switch {
	case errors.As(err, &sendErr):
		se.Status = sendErr.ErrorCode()
		switch sendErr.Reason {
		case mail.ErrGetSender, mail.ErrGetRcpts, mail.ErrNoUnencoded:
			se.Permanent = true
		default:
			se.Permanent = se.Status >= 500 && !sendErr.IsTemp()
		}
	case errors.As(err, &protoErr):
		// Refusals while connecting, e.g. 535 authentication failed.
		se.Status = protoErr.Code
		se.Permanent = protoErr.Code >= 500
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		se.Err = fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	return se
}
