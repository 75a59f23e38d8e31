-- Writes the row for the booking, kind, variant, channel and revision unless it exists, and
-- returns the row as it is now. No row when a concurrent first insert committed after this
-- statement's snapshot: asking again sees it.
-- name: EnsureNotification :many
WITH ins AS (
    INSERT INTO notifications (id, booking_id, kind, variant, channel, revision, recipient, status)
    VALUES (@id, @booking_id, @kind, @variant, @channel, @revision, @recipient, 'pending')
    ON CONFLICT (booking_id, kind, variant, channel, revision) DO NOTHING
    RETURNING id, booking_id, kind, variant, channel, revision, recipient, status,
        coalesce(provider_message_id, '')::text AS provider_message_id, error, attempts, created_at, updated_at)
SELECT id, booking_id, kind, variant, channel, revision, recipient, status,
    provider_message_id, error, attempts, created_at, updated_at FROM ins
UNION ALL
SELECT id, booking_id, kind, variant, channel, revision, recipient, status,
    coalesce(provider_message_id, '')::text AS provider_message_id, error, attempts, created_at, updated_at
FROM notifications
WHERE booking_id = @booking_id AND kind = @kind AND variant = @variant AND channel = @channel AND revision = @revision;

-- name: MarkNotificationSending :exec
UPDATE notifications SET status = 'sending', attempts = attempts + 1, updated_at = now()
WHERE id = @id AND status IN ('pending', 'sending');

-- Also keeps the text about to be handed to Twilio, which a retry of unknown outcome looks for.
-- name: MarkSMSSending :exec
UPDATE notifications SET status = 'sending', attempts = attempts + 1, sms_text = @sms_text, updated_at = now()
WHERE id = @id AND status IN ('pending', 'sending');

-- Which of sids another notification than id already holds as its provider message id.
-- name: ClaimedProviderIDs :many
SELECT provider_message_id::text FROM notifications
WHERE provider_message_id = ANY(@sids::text[]) AND id <> @id;

-- name: SentSMSText :one
SELECT sms_text FROM notifications WHERE id = @id;

-- Applies a delivery report that arrived before the message id was known.
-- name: MarkNotificationSent :exec
UPDATE notifications SET provider_message_id = nullif(@provider_message_id::text, ''), error = '', updated_at = now(),
    status = coalesce((SELECT r.status FROM delivery_reports r
        WHERE r.provider_message_id = @provider_message_id AND r.status IN ('sent', 'delivered', 'undelivered', 'failed')), 'sent')
WHERE id = @id AND status IN ('pending', 'sending');

-- Serialises the writes about one provider message id, until the transaction ends.
-- name: LockMessage :exec
SELECT pg_advisory_xact_lock(hashtext('message:' || @provider_message_id::text));

-- name: MarkNotificationFailed :exec
UPDATE notifications SET status = 'failed', error = @error, updated_at = now() WHERE id = @id;

-- name: MarkNotificationSkipped :exec
UPDATE notifications SET status = 'skipped', error = @error, updated_at = now()
WHERE id = @id AND status IN ('pending', 'sending');

-- name: NoteNotificationError :exec
UPDATE notifications SET error = @error, updated_at = now() WHERE id = @id;

-- A final state (delivered, undelivered, failed) is never overwritten. No row when there is no
-- such message or its state is final.
-- name: SetDeliveryStatus :one
UPDATE notifications SET status = @status, updated_at = now()
WHERE provider_message_id = @provider_message_id::text AND status NOT IN ('delivered', 'undelivered', 'failed')
RETURNING id, booking_id, kind, variant, channel, revision, recipient, status,
    coalesce(provider_message_id, '')::text AS provider_message_id, error, attempts, created_at, updated_at;

-- name: GetNotificationByMessage :one
SELECT id, booking_id, kind, variant, channel, revision, recipient, status,
    coalesce(provider_message_id, '')::text AS provider_message_id, error, attempts, created_at, updated_at
FROM notifications WHERE provider_message_id = @provider_message_id::text;

-- A report for a message id not stored yet, kept for MarkNotificationSent.
-- name: KeepDeliveryReport :exec
INSERT INTO delivery_reports (provider_message_id, status) VALUES (@provider_message_id, @status)
ON CONFLICT (provider_message_id) DO UPDATE SET status = EXCLUDED.status, received_at = now()
WHERE delivery_reports.status NOT IN ('delivered', 'undelivered', 'failed');

-- name: ListNotifications :many
SELECT id, booking_id, kind, variant, channel, revision, recipient, status,
    coalesce(provider_message_id, '')::text AS provider_message_id, error, attempts, created_at, updated_at
FROM notifications WHERE booking_id = @booking_id ORDER BY created_at, id;
