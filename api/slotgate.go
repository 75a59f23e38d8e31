package api

import (
	"context"
	"sync"
)

// slotGate lets one request of this process at a time go on to hold a given slot. In a rush
// for a few slots, the others wait for its outcome and are then checked against the database
// again, all together: a slot the first one took is refused to them by that one read each,
// not by a workflow each, and not one after the other. When the first one fails for reasons
// of its own (its patient's cap, say), the next one tries. Each API replica gates on its own;
// the exclusion constraint still decides between them.
type slotGate struct {
	mu       sync.Mutex
	inFlight map[string]chan struct{}
}

// admit runs check (the database's answer: taken, not offered...) and, when it passes, lets
// the caller in to hold the slot unless another request of this process is holding it now;
// then it waits for that one's outcome and checks again. The returned leave lets the next in.
func (g *slotGate) admit(ctx context.Context, key string, check func() error) (leave func(), err error) {
	for {
		if err := check(); err != nil {
			return nil, err
		}
		g.mu.Lock()
		wait, busy := g.inFlight[key]
		if !busy {
			if g.inFlight == nil {
				g.inFlight = make(map[string]chan struct{})
			}
			done := make(chan struct{})
			g.inFlight[key] = done
			g.mu.Unlock()
			return func() {
				g.mu.Lock()
				delete(g.inFlight, key)
				g.mu.Unlock()
				close(done)
			}, nil
		}
		g.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
