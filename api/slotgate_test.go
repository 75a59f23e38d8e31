package api

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/store"
)

// Of many requests for one free slot, one is let in to hold it; the others are refused at
// once while it holds, and by the database's answer after.
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
	var admitted, busy, refused atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 20 {
		wg.Go(func() {
			<-start
			leave, err := g.admit("slot", check)
			switch {
			case errors.Is(err, store.ErrSlotTaken):
				busy.Add(1)
			case errors.Is(err, errTaken):
				refused.Add(1)
			case err == nil:
				admitted.Add(1)
				time.Sleep(20 * time.Millisecond) // the hold
				taken.Store(true)
				leave()
			default:
				t.Errorf("unexpected %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	require.EqualValues(t, 1, admitted.Load())
	require.EqualValues(t, 19, busy.Load()+refused.Load())

	// When the holder fails (the slot stays free), the next one gets its turn.
	taken.Store(false)
	leave, err := g.admit("slot", check)
	require.NoError(t, err)
	_, err = g.admit("slot", check)
	require.ErrorIs(t, err, store.ErrSlotTaken)
	_, err = g.admit("another slot", check)
	require.NoError(t, err, "other slots are not held up")
	leave()
	leave2, err := g.admit("slot", check)
	require.NoError(t, err)
	leave2()
}
