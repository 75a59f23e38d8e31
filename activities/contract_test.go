package activities_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/clinicbook/booking/activities"
	"github.com/clinicbook/booking/activities/contract"
)

// TestContractNamesTheRegisteredActivities checks that the names the workflows call are the
// ones the worker registers: the exported methods of *Activities and *Reconciler. A method
// renamed without its contract constant (or the reverse) fails here, not in a booking in
// flight.
func TestContractNamesTheRegisteredActivities(t *testing.T) {
	cases := []struct {
		receiver any
		names    []string
	}{
		{&activities.Activities{}, []string{contract.HoldSlot, contract.SetStatus, contract.MoveBooking,
			contract.LoadBooking, contract.RecordEvent, contract.SendNotification}},
		{&activities.Reconciler{}, []string{contract.ExpireLapsedHolds, contract.ResumeLiveBookings}},
	}
	for _, c := range cases {
		typ := reflect.TypeOf(c.receiver)
		var methods []string
		for i := range typ.NumMethod() {
			methods = append(methods, typ.Method(i).Name)
		}
		slices.Sort(methods)
		want := slices.Sorted(slices.Values(c.names))
		if !slices.Equal(methods, want) {
			t.Errorf("%s registers %v; package contract names %v", typ, methods, want)
		}
	}
}
