package api

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Of many requests for one free slot, one is let in to hold it; the others wait for its
// outcome, read again and are refused, without being let in one after the other.
func TestSlotGateLetsOneHolderInAndRefusesTheRest(t *testing.T) {
	var g slotGate
	var taken atomic.Bool
	errTaken := errors.New("taken")
	check := func() error {
		if taken.Load() {
			return errTaken
		}
		return nil
	}
	var admitted, refused atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			leave, err := g.admit(context.Background(), "slot", check)
			if err != nil {
				require.ErrorIs(t, err, errTaken)
				refused.Add(1)
				return
			}
			admitted.Add(1)
			time.Sleep(20 * time.Millisecond) // the hold
			taken.Store(true)
			leave()
		})
	}
	wg.Wait()
	require.EqualValues(t, 1, admitted.Load())
	require.EqualValues(t, 19, refused.Load())

	// When the holder fails (the slot stays free), the next one gets its turn.
	taken.Store(false)
	leave, err := g.admit(context.Background(), "slot", check)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = g.admit(ctx, "slot", check)
	require.ErrorIs(t, err, context.DeadlineExceeded, "a second waits while the first holds")
	leave()
	leave2, err := g.admit(context.Background(), "slot", check)
	require.NoError(t, err)
	leave2()
}
