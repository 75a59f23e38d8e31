-- A message can be overtaken by events while it waits for a retry (a reminder for a booking
-- cancelled meanwhile): such a message is skipped, not sent late.
ALTER TABLE notifications DROP CONSTRAINT notifications_status_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'queued', 'delivered', 'undelivered', 'failed', 'unknown', 'skipped'));

-- Inbound SMS replies find the patient by phone number.
CREATE INDEX users_phone ON users (phone) WHERE phone <> '';
