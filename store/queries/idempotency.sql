-- Binds the key to booking_id and request_hash unless it is bound already, and returns the
-- binding that holds, created telling whether it was made just now. No row when a concurrent
-- first claim committed after this statement's snapshot: asking again sees it.
-- name: ClaimKey :one
WITH ins AS (
    INSERT INTO idempotency_keys (user_id, key, request_hash, booking_id) VALUES (@user_id, @key, @request_hash, @booking_id)
    ON CONFLICT (user_id, key) DO NOTHING
    RETURNING booking_id, request_hash)
SELECT booking_id, request_hash, true AS created FROM ins
UNION ALL
SELECT booking_id, request_hash, false FROM idempotency_keys WHERE user_id = @user_id AND key = @key
LIMIT 1;
