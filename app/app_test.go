package app_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/app"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/notify"
	"github.com/clinicbook/booking/store"
)

// Without SMTP_LOOKUP_URL the activities must see no lookup at all: an interface holding a
// nil *notify.MailLookup would not be nil, and settling an email would call through it.
func TestNewActivitiesAsksTheRelayOnlyWhenNamed(t *testing.T) {
	acts := app.NewActivities(nil, config.Config{})
	require.True(t, acts.Notifier.EmailLookup == nil, "EmailLookup is %#v, want a nil interface", acts.Notifier.EmailLookup)

	cfg := config.Config{PublicBaseURL: "https://booking.example.com",
		SMTP: config.SMTP{From: "Clinic <no-reply@clinic.example>", LookupURL: "http://mailpit:8025"}}
	acts = app.NewActivities(nil, cfg)
	require.IsType(t, &notify.MailLookup{}, acts.Notifier.EmailLookup)
	require.Equal(t, cfg.PublicBaseURL, acts.Notifier.PublicBaseURL)
	require.Equal(t, cfg.SMTP.From, acts.Notifier.Organizer)
}

// The API's /readyz asks the database (and then Temporal): one that does not answer makes the
// server unready.
func TestNewAPIServerIsReadyOnlyWithTheDatabase(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
	require.NoError(t, err) // connects lazily
	defer pool.Close()
	srv := app.NewAPIServer(store.New(pool), nil, nil, nil, config.Config{}, nil)
	require.ErrorContains(t, srv.Ready(context.Background()), "postgresql")
}

func TestNewCodecEncryptsWithTheConfiguredKeys(t *testing.T) {
	pc, err := app.NewCodec(config.Codec{})
	require.NoError(t, err)
	require.False(t, pc.Encrypts(), "no key: the dev sandbox's plain payloads")

	pc, err = app.NewCodec(config.Codec{Keys: []config.CodecKey{{ID: "k1", Secret: make([]byte, 32)}}})
	require.NoError(t, err)
	require.True(t, pc.Encrypts())

	_, err = app.NewCodec(config.Codec{Keys: []config.CodecKey{{ID: "k1", Secret: make([]byte, 16)}}})
	require.ErrorContains(t, err, "TEMPORAL_CODEC_KEYS")
}
