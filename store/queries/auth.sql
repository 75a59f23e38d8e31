-- name: CreateRefreshToken :exec
INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at) VALUES (@token_hash, @user_id, @family_id, @expires_at);

-- Spends a usable token: of two concurrent rotations only one finds used_at still NULL. No row
-- when the token is unknown, used, revoked or expired.
-- name: SpendRefreshToken :one
UPDATE refresh_tokens t SET used_at = @now::timestamptz
FROM users u
WHERE t.token_hash = @token_hash AND u.id = t.user_id
  AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > @now
RETURNING t.user_id, t.family_id, u.role;

-- name: GetRefreshToken :one
SELECT token_hash, user_id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = @token_hash;

-- name: RevokeRefreshFamily :exec
UPDATE refresh_tokens SET revoked_at = @now::timestamptz WHERE family_id = @family_id AND revoked_at IS NULL;

-- name: GetRefreshFamily :one
SELECT family_id FROM refresh_tokens WHERE token_hash = @token_hash;

-- name: EnsureLoginFailures :exec
INSERT INTO login_failures (email, client_addr, failures, updated_at) VALUES (@email, @client_addr, 0, @now)
ON CONFLICT (email, client_addr) DO NOTHING;

-- name: LockLoginFailures :one
SELECT failures, locked_until, updated_at FROM login_failures WHERE email = @email AND client_addr = @client_addr FOR UPDATE;

-- name: UpdateLoginFailures :exec
UPDATE login_failures SET failures = @failures, locked_until = @locked_until, updated_at = @now
WHERE email = @email AND client_addr = @client_addr;

-- name: ClearLoginFailures :exec
DELETE FROM login_failures WHERE email = @email AND client_addr = @client_addr;
