package api

import (
	"sync"

	"github.com/clinicbook/booking/store"
)

// slotGate lets one request of this process at a time go on to hold a given slot. In a rush
// for a few slots nearly every request is for a slot somebody holds, or is holding at this
// very moment: the first are refused by one indexed read, the second at once, as the database
// would refuse them a moment later, instead of each starting a workflow to be told no. Each
// API replica gates on its own; the exclusion constraint still decides between them.
type slotGate struct {
	mu       sync.Mutex
	inFlight map[string]struct{}
}

// admit runs check (the database's answer: taken, not offered...) and, when it passes, lets
// the caller in to hold the slot, unless another request of this process is holding it now:
// that is the slot taken. The returned leave lets the next request in; should the hold in
// flight fail for reasons of its own (its patient's cap, say), the slot is free again for it.
func (g *slotGate) admit(key string, check func() error) (leave func(), err error) {
	if err := check(); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, busy := g.inFlight[key]; busy {
		// The database would refuse it a moment later, once the hold in flight commits.
		return nil, store.ErrSlotTaken
	}
	if g.inFlight == nil {
		g.inFlight = make(map[string]struct{})
	}
	g.inFlight[key] = struct{}{}
	return func() {
		g.mu.Lock()
		delete(g.inFlight, key)
		g.mu.Unlock()
	}, nil
}
