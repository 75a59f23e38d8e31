package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
)

func TestUserNamesReadsAPageInOneStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := storetest.NewURL(t)
	var counted statements
	pool, err := store.Open(ctx, dbURL, store.WithTracer(&counted))
	require.NoError(t, err)
	defer pool.Close()
	s := fixture(t, pool)
	_, err = s.CreateUser(ctx, domain.User{ID: "pat-2", Email: "bob@example.com", PasswordHash: "x", Name: "Bob", Role: domain.RolePatient})
	require.NoError(t, err)
	counted.take()

	// Repeated ids (one patient's several bookings) and unknown ones are fine.
	names, err := s.UserNames(ctx, []string{"pat-1", "pat-2", "pat-1", "gone"})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"pat-1": "Ann", "pat-2": "Bob"}, names)
	n, sql, _ := counted.take()
	require.Equal(t, 1, n, "statements: the last was %s", sql)

	names, err = s.UserNames(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, names)
	n, _, _ = counted.take()
	require.Zero(t, n, "nothing to name asks nothing")
}
