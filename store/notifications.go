package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store/internal/db"
)

// notificationRow is any generated row type of a query returning a notification's columns
// (queries/notifications.sql); each converts to db.GetNotificationByMessageRow.
type notificationRow interface {
	db.GetNotificationByMessageRow | db.EnsureNotificationRow | db.SetDeliveryStatusRow | db.ListNotificationsRow
}

func notificationOf[R notificationRow](row R) domain.Notification {
	r := db.GetNotificationByMessageRow(row)
	return domain.Notification{ID: r.ID, BookingID: r.BookingID, Kind: r.Kind, Variant: r.Variant, Channel: r.Channel,
		Revision: r.Revision, Recipient: r.Recipient, Status: r.Status, ProviderMessageID: r.ProviderMessageID,
		Error: r.Error, Attempts: r.Attempts, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// EnsureNotification writes the row for n's booking, kind, variant, channel and revision unless
// it exists, and returns the row as it is now: the unique key makes this the one place a
// message can come into being.
func (s *Store) EnsureNotification(ctx context.Context, n domain.Notification) (domain.Notification, error) {
	// A concurrent first insert can commit after this statement's snapshot: then neither
	// branch sees a row, and asking again does.
	for attempt := 0; attempt < 3; attempt++ {
		rows, err := s.q.EnsureNotification(ctx, db.EnsureNotificationParams{ID: n.ID, BookingID: n.BookingID, Kind: n.Kind,
			Variant: n.Variant, Channel: n.Channel, Revision: n.Revision, Recipient: n.Recipient})
		if err != nil {
			return domain.Notification{}, fmt.Errorf("ensure notification: %w", err)
		}
		if len(rows) > 0 {
			return notificationOf(rows[0]), nil
		}
	}
	return domain.Notification{}, fmt.Errorf("ensure notification: row not visible")
}

// MarkNotificationSending records that a send is about to start.
func (s *Store) MarkNotificationSending(ctx context.Context, id string) error {
	if err := s.q.MarkNotificationSending(ctx, id); err != nil {
		return fmt.Errorf("mark notification sending: %w", err)
	}
	return nil
}

// MarkSMSSending is MarkNotificationSending for an SMS: it also keeps the text about to be
// handed to Twilio, which a retry of unknown outcome looks for (SentSMSText).
func (s *Store) MarkSMSSending(ctx context.Context, id, text string) error {
	if err := s.q.MarkSMSSending(ctx, db.MarkSMSSendingParams{ID: id, SmsText: text}); err != nil {
		return fmt.Errorf("mark sms sending: %w", err)
	}
	return nil
}

// ClaimedProviderIDs reports which of sids a notification other than id holds already: a
// message found at the provider by its text may be another notification's with the same text.
func (s *Store) ClaimedProviderIDs(ctx context.Context, id string, sids []string) (map[string]bool, error) {
	claimed, err := s.q.ClaimedProviderIDs(ctx, db.ClaimedProviderIDsParams{ID: id, Sids: sids})
	if err != nil {
		return nil, fmt.Errorf("claimed provider ids: %w", err)
	}
	out := make(map[string]bool, len(claimed))
	for _, sid := range claimed {
		out[sid] = true
	}
	return out, nil
}

// SentSMSText is the text the last send of an SMS handed Twilio; "" when none was kept (a
// send begun before the text was).
func (s *Store) SentSMSText(ctx context.Context, id string) (string, error) {
	text, err := s.q.SentSMSText(ctx, id)
	if err != nil {
		return "", fmt.Errorf("sent sms text: %w", err)
	}
	return text, nil
}

// MarkNotificationSent records the provider's acceptance and its message id, and applies a
// delivery report that arrived before the id was known. It and SetDeliveryStatus take the
// same per-message lock, so a report is either seen here or finds the id stored.
func (s *Store) MarkNotificationSent(ctx context.Context, id, providerMessageID string) error {
	return s.inTx(ctx, func(q *db.Queries) error {
		if err := lockMessage(ctx, q, providerMessageID); err != nil {
			return err
		}
		if err := q.MarkNotificationSent(ctx, db.MarkNotificationSentParams{ID: id, ProviderMessageID: providerMessageID}); err != nil {
			return fmt.Errorf("mark notification sent: %w", err)
		}
		return nil
	})
}

// lockMessage serialises the writes about one provider message id, until the transaction ends.
func lockMessage(ctx context.Context, q *db.Queries, providerMessageID string) error {
	if providerMessageID == "" {
		return nil
	}
	if err := q.LockMessage(ctx, providerMessageID); err != nil {
		return fmt.Errorf("lock message %s: %w", providerMessageID, err)
	}
	return nil
}

// MarkNotificationFailed records a refusal that retrying cannot fix.
func (s *Store) MarkNotificationFailed(ctx context.Context, id, reason string) error {
	if err := s.q.MarkNotificationFailed(ctx, db.MarkNotificationFailedParams{ID: id, Error: reason}); err != nil {
		return fmt.Errorf("mark notification failed: %w", err)
	}
	return nil
}

// MarkNotificationSkipped records a message that events overtook before it could go out.
func (s *Store) MarkNotificationSkipped(ctx context.Context, id, reason string) error {
	if err := s.q.MarkNotificationSkipped(ctx, db.MarkNotificationSkippedParams{ID: id, Error: reason}); err != nil {
		return fmt.Errorf("mark notification skipped: %w", err)
	}
	return nil
}

// NoteNotificationError keeps the last temporary error for the timeline; the status stays.
func (s *Store) NoteNotificationError(ctx context.Context, id, reason string) error {
	if err := s.q.NoteNotificationError(ctx, db.NoteNotificationErrorParams{ID: id, Error: reason}); err != nil {
		return fmt.Errorf("note notification error: %w", err)
	}
	return nil
}

// SetDeliveryStatus applies a provider's delivery report. Reports can arrive out of order, so
// a final state (delivered, undelivered, failed) is never overwritten by an earlier one. A
// report for an id not stored yet is kept for MarkNotificationSent, and answered not found.
func (s *Store) SetDeliveryStatus(ctx context.Context, providerMessageID, status string) (domain.Notification, error) {
	var out domain.Notification
	kept := false
	err := s.inTx(ctx, func(q *db.Queries) error {
		if err := lockMessage(ctx, q, providerMessageID); err != nil {
			return err
		}
		updated, err := q.SetDeliveryStatus(ctx, db.SetDeliveryStatusParams{ProviderMessageID: providerMessageID, Status: status})
		if err == nil {
			out = notificationOf(updated)
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("set delivery status: %w", err)
		}
		n, err := q.GetNotificationByMessage(ctx, providerMessageID)
		if err == nil {
			out = notificationOf(n) // already final
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("set delivery status: %w", err)
		}
		kept = true
		if err := q.KeepDeliveryReport(ctx, db.KeepDeliveryReportParams{ProviderMessageID: providerMessageID, Status: status}); err != nil {
			return fmt.Errorf("keep delivery report: %w", err)
		}
		return nil
	})
	if err == nil && kept {
		return domain.Notification{}, domain.Errorf(domain.KindNotFound, "no message %s yet; the report is kept", providerMessageID)
	}
	return out, err
}

// ListNotifications returns a booking's notifications, oldest first.
func (s *Store) ListNotifications(ctx context.Context, bookingID string) ([]domain.Notification, error) {
	rows, err := s.q.ListNotifications(ctx, bookingID)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	out := make([]domain.Notification, len(rows))
	for i, r := range rows {
		out[i] = notificationOf(r)
	}
	return out, nil
}
