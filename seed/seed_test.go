package seed_test

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/availability"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/seed"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
)

func TestDemoClinic(t *testing.T) {
	ctx := context.Background()
	st := store.New(storetest.New(t))
	_, key, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	accounts := auth.NewService(st, config.JWT{Issuer: "i", Audience: "a", AccessTTL: time.Minute, RefreshTTL: time.Hour,
		SigningKey: config.SigningKey{ID: "k", Key: key}, VerifyKeys: map[string]ed25519.PublicKey{"k": key.Public().(ed25519.PublicKey)}}, time.Now, auth.Options{})
	// A Monday, so that the closed day (two working days on) is Wednesday.
	now := time.Date(2030, 1, 7, 6, 0, 0, 0, time.UTC)

	created, err := seed.Demo(ctx, st, accounts, now)
	require.NoError(t, err)
	require.True(t, created)

	providers, err := st.ListProviders(ctx)
	require.NoError(t, err)
	require.Len(t, providers, 3)
	zones := map[string]bool{}
	for _, p := range providers {
		zones[p.TimeZone] = true
	}
	require.Len(t, zones, 2, "doctors in two time zones")
	services, err := st.ListServices(ctx)
	require.NoError(t, err)
	var lengths []int
	for _, s := range services {
		lengths = append(lengths, s.DurationMinutes)
	}
	require.Equal(t, []int{15, 30, 60}, lengths)

	// The demo logins work, and the demo patient may book at once: both channels are verified.
	_, err = accounts.Login(ctx, auth.LoginInput{Email: seed.PatientEmail, Password: seed.PatientPassword})
	require.NoError(t, err)
	patient, err := st.GetUserByEmail(ctx, seed.PatientEmail)
	require.NoError(t, err)
	require.True(t, patient.EmailVerified && patient.PhoneVerified)
	require.NoError(t, accounts.RequireVerifiedContact(ctx, patient.ID))
	for _, email := range seed.Doctors() {
		_, err = accounts.Login(ctx, auth.LoginInput{Email: email, Password: seed.DoctorPassword})
		require.NoError(t, err, email)
	}

	// Every doctor has slots in the next week; the one with a closed day has none that day.
	var closedDays int
	for _, p := range providers {
		sched, err := st.GetSchedule(ctx, p.ID)
		require.NoError(t, err)
		slots, err := availability.Slots(sched, 30*time.Minute, now, now.Add(7*24*time.Hour), now, nil)
		require.NoError(t, err)
		require.NotEmpty(t, slots, p.Name)
		for _, ex := range sched.Exceptions {
			require.True(t, ex.Closed)
			require.Equal(t, time.Wednesday, ex.Date.Weekday())
			loc, _ := time.LoadLocation(p.TimeZone)
			for _, s := range slots {
				require.NotEqual(t, ex.Date, domain.DateOf(s.Start.In(loc)), "a slot on the closed day")
			}
			closedDays++
		}
	}
	require.Equal(t, 1, closedDays)

	// A second run keeps the data and seeds nothing.
	created, err = seed.Demo(ctx, st, accounts, now)
	require.NoError(t, err)
	require.False(t, created)
	providers, err = st.ListProviders(ctx)
	require.NoError(t, err)
	require.Len(t, providers, 3)
}
