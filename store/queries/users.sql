-- name: CreateUser :one
INSERT INTO users (id, email, password_hash, name, phone, role)
VALUES (@id, @email, @password_hash, @name, @phone, @role)
RETURNING id, email, password_hash, name, phone, role, created_at,
    (email_verified_at IS NOT NULL)::boolean AS email_verified, (phone_verified_at IS NOT NULL)::boolean AS phone_verified;

-- name: GetUser :one
SELECT id, email, password_hash, name, phone, role, created_at,
    (email_verified_at IS NOT NULL)::boolean AS email_verified, (phone_verified_at IS NOT NULL)::boolean AS phone_verified
FROM users WHERE id = @id;

-- Emails are compared without case (users_email_key).
-- name: GetUserByEmail :one
SELECT id, email, password_hash, name, phone, role, created_at,
    (email_verified_at IS NOT NULL)::boolean AS email_verified, (phone_verified_at IS NOT NULL)::boolean AS phone_verified
FROM users WHERE lower(email) = lower(@email);

-- A page of bookings names its patients with one read, however many there are.
-- name: UserNames :many
SELECT id, name FROM users WHERE id = ANY(@ids::text[]);
