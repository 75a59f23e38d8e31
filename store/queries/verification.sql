-- name: LockUser :one
SELECT id FROM users WHERE id = @id FOR UPDATE;

-- name: LockVerificationAddress :exec
SELECT pg_advisory_xact_lock(hashtextextended('verification:' || @sent_to::text, 0));

-- Sends older than the longest window count for nothing any more.
-- name: DeleteOldVerificationSends :exec
DELETE FROM verification_sends WHERE (user_id = @user_id OR sent_to = @sent_to) AND sent_at <= @before;

-- The account's sends on the channel after since, and the oldest of them (since when none).
-- name: CountAccountSends :one
SELECT count(*), coalesce(min(sent_at), sqlc.arg(since))::timestamptz AS oldest FROM verification_sends
WHERE user_id = @user_id AND channel = @channel AND sent_at > sqlc.arg(since);

-- The sends to the address after since, and the oldest of them (since when none).
-- name: CountAddressSends :one
SELECT count(*), coalesce(min(sent_at), sqlc.arg(since))::timestamptz AS oldest FROM verification_sends
WHERE sent_to = @sent_to AND sent_at > sqlc.arg(since);

-- name: AddVerificationSend :exec
INSERT INTO verification_sends (user_id, channel, sent_to, sent_at) VALUES (@user_id, @channel, @sent_to, @sent_at);

-- Replaces any earlier pending code of the account and channel.
-- name: SaveVerificationCode :exec
INSERT INTO verification_codes (user_id, channel, sent_to, code_hash, expires_at, attempts, created_at)
VALUES (@user_id, @channel, @sent_to, @code_hash, @expires_at, 0, @created_at)
ON CONFLICT (user_id, channel) DO UPDATE SET sent_to = EXCLUDED.sent_to, code_hash = EXCLUDED.code_hash,
    expires_at = EXCLUDED.expires_at, attempts = 0, created_at = EXCLUDED.created_at;

-- name: DeleteVerificationCode :exec
DELETE FROM verification_codes WHERE user_id = @user_id AND channel = @channel AND code_hash = @code_hash;

-- name: CountVerificationAttempt :one
UPDATE verification_codes SET attempts = attempts + 1
WHERE user_id = @user_id AND channel = @channel
RETURNING sent_to, code_hash, expires_at, attempts, created_at;

-- name: DropVerificationCode :exec
DELETE FROM verification_codes WHERE user_id = @user_id AND channel = @channel;

-- Marks the email verified provided it is still address; no row changed when it is not.
-- name: VerifyEmail :execrows
UPDATE users SET email_verified_at = @at::timestamptz WHERE id = @id AND email = @address;

-- Marks the phone verified provided it is still address; no row changed when it is not.
-- name: VerifyPhone :execrows
UPDATE users SET phone_verified_at = @at::timestamptz WHERE id = @id AND phone = @address;

-- name: MarkEmailVerified :execrows
UPDATE users SET email_verified_at = @at::timestamptz WHERE id = @id AND email <> '';

-- An empty phone is no number: it is never verified.
-- name: MarkPhoneVerified :execrows
UPDATE users SET phone_verified_at = @at::timestamptz WHERE id = @id AND phone <> '';

-- name: PhoneVerifiedByOther :one
SELECT EXISTS (SELECT 1 FROM users WHERE phone = @phone AND phone_verified_at IS NOT NULL AND id <> @user_id);

-- name: PhoneVerified :one
SELECT EXISTS (SELECT 1 FROM users WHERE phone = @phone AND phone_verified_at IS NOT NULL);

-- name: ClaimInboundMessage :execrows
INSERT INTO inbound_messages (message_sid, from_number, received_at) VALUES (@message_sid, @from_number, @received_at)
ON CONFLICT (message_sid) DO NOTHING;

-- name: InboundReply :one
SELECT reply FROM inbound_messages WHERE message_sid = @message_sid;

-- name: SetInboundReply :exec
UPDATE inbound_messages SET reply = @reply WHERE message_sid = @message_sid;
