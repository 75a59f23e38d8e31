package api

import (
	"context"
	"sync"
)

// slotGate lets one request of this process at a time go on to hold a given slot. In a rush
// for a few slots, the others wait for its outcome and are then checked against the database
// again: a slot the first one took is refused to them by that one read, not by a workflow
// each. When the first one fails for reasons of its own (its patient's cap, say), the next one
// tries. Each API replica gates on its own; the exclusion constraint still decides between them.
type slotGate struct {
	mu       sync.Mutex
	inFlight map[string]chan struct{}
}

// enter waits until no other request of this process is in for key, then lets the caller in;
// leave lets the next one in. It gives up when ctx ends.
func (g *slotGate) enter(ctx context.Context, key string) (leave func(), err error) {
	for {
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
