package chaos

import (
	"sort"
	"sync"
	"time"
)

// Ledger is what the clients saw: every command about every booking, with its outcome.
type Ledger struct {
	mu      sync.Mutex
	records map[string]*Record
	// holdsUnknown counts holds whose answer never came: no id to follow them by.
	holdsUnknown int
	holdsRefused int
	holdsTried   int
	outcomes     map[string]map[Outcome]int
}

func newLedger() *Ledger {
	return &Ledger{records: map[string]*Record{}, outcomes: map[string]map[Outcome]int{}}
}

func (l *Ledger) count(name string, o Outcome) {
	if l.outcomes[name] == nil {
		l.outcomes[name] = map[Outcome]int{}
	}
	l.outcomes[name][o]++
}

// hold records a POST /v1/bookings: v is the 201's booking, nil when refused or unanswered.
func (l *Ledger) hold(patientID, providerID string, at time.Time, v *View, o Outcome, code int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.holdsTried++
	l.count(CmdHold, o)
	switch o {
	case Refused:
		l.holdsRefused++
		return
	case Unknown:
		l.holdsUnknown++
		return
	}
	r := l.records[v.ID]
	if r == nil {
		r = &Record{ID: v.ID, PatientID: patientID, ProviderID: providerID}
		l.records[v.ID] = r
	}
	r.Commands = append(r.Commands, Command{Name: CmdHold, At: at, Outcome: o, Code: code, Result: v})
}

// command records a command on a booking.
func (l *Ledger) command(id string, c Command) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count(c.Name, c.Outcome)
	if r := l.records[id]; r != nil {
		r.Commands = append(r.Commands, c)
	}
}

// Records is a copy of every booking's record, by id.
func (l *Ledger) Records() []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Record, 0, len(l.records))
	for _, r := range l.records {
		c := *r
		c.Commands = append([]Command(nil), r.Commands...)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// LedgerStats are the load's counts.
type LedgerStats struct {
	HoldsTried, HoldsAcked, HoldsRefused, HoldsUnknown int
	// Commands counts every command (holds included) by outcome.
	Commands map[Outcome]int
	ByName   map[string]map[Outcome]int
}

func (l *Ledger) Stats() LedgerStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := LedgerStats{HoldsTried: l.holdsTried, HoldsAcked: len(l.records), HoldsRefused: l.holdsRefused,
		HoldsUnknown: l.holdsUnknown, Commands: map[Outcome]int{}, ByName: map[string]map[Outcome]int{}}
	for name, m := range l.outcomes {
		s.ByName[name] = map[Outcome]int{}
		for o, n := range m {
			s.Commands[o] += n
			s.ByName[name][o] = n
		}
	}
	return s
}
