package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/clinicbook/booking/domain"
)

const notificationColumns = `id, booking_id, kind, variant, channel, revision, recipient, status,
	coalesce(provider_message_id, ''), error, attempts, created_at, updated_at`

func scanNotification(row pgx.CollectableRow) (domain.Notification, error) {
	var n domain.Notification
	err := row.Scan(&n.ID, &n.BookingID, &n.Kind, &n.Variant, &n.Channel, &n.Revision, &n.Recipient, &n.Status,
		&n.ProviderMessageID, &n.Error, &n.Attempts, &n.CreatedAt, &n.UpdatedAt)
	return n, err
}

// EnsureNotification writes the row for n's booking, kind, variant, channel and revision unless
// it exists, and returns the row as it is now: the unique key makes this the one place a
// message can come into being.
func (s *Store) EnsureNotification(ctx context.Context, n domain.Notification) (domain.Notification, error) {
	// A concurrent first insert can commit after this statement's snapshot: then neither
	// branch sees a row, and asking again does.
	for attempt := 0; attempt < 3; attempt++ {
		out, err := s.ensureNotification(ctx, n)
		if err != nil || len(out) > 0 {
			if err != nil {
				return domain.Notification{}, err
			}
			return out[0], nil
		}
	}
	return domain.Notification{}, fmt.Errorf("ensure notification: row not visible")
}

func (s *Store) ensureNotification(ctx context.Context, n domain.Notification) ([]domain.Notification, error) {
	rows, _ := s.pool.Query(ctx, `WITH ins AS (
			INSERT INTO notifications (id, booking_id, kind, variant, channel, revision, recipient, status)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending')
			ON CONFLICT (booking_id, kind, variant, channel, revision) DO NOTHING
			RETURNING `+notificationColumns+`)
		SELECT * FROM ins
		UNION ALL
		SELECT `+notificationColumns+` FROM notifications
		WHERE booking_id = $2 AND kind = $3 AND variant = $4 AND channel = $5 AND revision = $6`,
		n.ID, n.BookingID, n.Kind, n.Variant, n.Channel, n.Revision, n.Recipient)
	out, err := pgx.CollectRows(rows, scanNotification)
	if err != nil {
		return nil, fmt.Errorf("ensure notification: %w", err)
	}
	return out, nil
}

// MarkNotificationSending records that a send is about to start.
func (s *Store) MarkNotificationSending(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `UPDATE notifications SET status = 'sending', attempts = attempts + 1, updated_at = now()
		WHERE id = $1 AND status IN ('pending', 'sending')`, id)
	if err != nil {
		return fmt.Errorf("mark notification sending: %w", err)
	}
	return nil
}

// MarkSMSSending is MarkNotificationSending for an SMS: it also keeps the text about to be
// handed to Twilio, which a retry of unknown outcome looks for (SentSMSText).
func (s *Store) MarkSMSSending(ctx context.Context, id, text string) error {
	_, err := s.pool.Exec(ctx, `UPDATE notifications SET status = 'sending', attempts = attempts + 1, sms_text = $2,
			updated_at = now()
		WHERE id = $1 AND status IN ('pending', 'sending')`, id, text)
	if err != nil {
		return fmt.Errorf("mark sms sending: %w", err)
	}
	return nil
}

// SentSMSText is the text the last send of an SMS handed Twilio; "" when none was kept (a
// send begun before the text was).
func (s *Store) SentSMSText(ctx context.Context, id string) (string, error) {
	var text string
	if err := s.pool.QueryRow(ctx, `SELECT sms_text FROM notifications WHERE id = $1`, id).Scan(&text); err != nil {
		return "", fmt.Errorf("sent sms text: %w", err)
	}
	return text, nil
}

// MarkNotificationSent records the provider's acceptance and its message id, and applies a
// delivery report that arrived before the id was known. It and SetDeliveryStatus take the
// same per-message lock, so a report is either seen here or finds the id stored.
func (s *Store) MarkNotificationSent(ctx context.Context, id, providerMessageID string) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		if err := lockMessage(ctx, tx, providerMessageID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE notifications SET provider_message_id = nullif($2, ''), error = '', updated_at = now(),
				status = coalesce((SELECT r.status FROM delivery_reports r
					WHERE r.provider_message_id = $2 AND r.status IN ('sent', 'delivered', 'undelivered', 'failed')), 'sent')
			WHERE id = $1 AND status IN ('pending', 'sending')`, id, providerMessageID)
		if err != nil {
			return fmt.Errorf("mark notification sent: %w", err)
		}
		return nil
	})
}

// lockMessage serialises the writes about one provider message id, until the transaction ends.
func lockMessage(ctx context.Context, tx pgx.Tx, providerMessageID string) error {
	if providerMessageID == "" {
		return nil
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('message:' || $1))`, providerMessageID); err != nil {
		return fmt.Errorf("lock message %s: %w", providerMessageID, err)
	}
	return nil
}

// MarkNotificationFailed records a refusal that retrying cannot fix.
func (s *Store) MarkNotificationFailed(ctx context.Context, id, reason string) error {
	_, err := s.pool.Exec(ctx, `UPDATE notifications SET status = 'failed', error = $2, updated_at = now() WHERE id = $1`, id, reason)
	if err != nil {
		return fmt.Errorf("mark notification failed: %w", err)
	}
	return nil
}

// MarkNotificationSkipped records a message that events overtook before it could go out.
func (s *Store) MarkNotificationSkipped(ctx context.Context, id, reason string) error {
	_, err := s.pool.Exec(ctx, `UPDATE notifications SET status = 'skipped', error = $2, updated_at = now()
		WHERE id = $1 AND status IN ('pending', 'sending')`, id, reason)
	if err != nil {
		return fmt.Errorf("mark notification skipped: %w", err)
	}
	return nil
}

// NoteNotificationError keeps the last temporary error for the timeline; the status stays.
func (s *Store) NoteNotificationError(ctx context.Context, id, reason string) error {
	_, err := s.pool.Exec(ctx, `UPDATE notifications SET error = $2, updated_at = now() WHERE id = $1`, id, reason)
	if err != nil {
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
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		if err := lockMessage(ctx, tx, providerMessageID); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `UPDATE notifications SET status = $2, updated_at = now()
			WHERE provider_message_id = $1 AND status NOT IN ('delivered', 'undelivered', 'failed')
			RETURNING `+notificationColumns, providerMessageID, status)
		updated, err := pgx.CollectRows(rows, scanNotification)
		if err != nil {
			return fmt.Errorf("set delivery status: %w", err)
		}
		if len(updated) > 0 {
			out = updated[0]
			return nil
		}
		rows, _ = tx.Query(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE provider_message_id = $1`, providerMessageID)
		n, err := pgx.CollectExactlyOneRow(rows, scanNotification)
		if err == nil {
			out = n // already final
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("set delivery status: %w", err)
		}
		kept = true
		_, err = tx.Exec(ctx, `INSERT INTO delivery_reports (provider_message_id, status) VALUES ($1, $2)
			ON CONFLICT (provider_message_id) DO UPDATE SET status = EXCLUDED.status, received_at = now()
			WHERE delivery_reports.status NOT IN ('delivered', 'undelivered', 'failed')`, providerMessageID, status)
		if err != nil {
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
	rows, err := s.pool.Query(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE booking_id = $1 ORDER BY created_at, id`, bookingID)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	return pgx.CollectRows(rows, scanNotification)
}
