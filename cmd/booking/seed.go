package main

import (
	"flag"
	"fmt"
	"io"
)

// seedArgs reads `booking seed`'s flags: --bookings N generates a clinic group of N bookings
// for measuring instead of the demo clinic.
func seedArgs(args []string) (bookings int, err error) {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&bookings, "bookings", 0, "generate a clinic group with this many bookings (a doctor per 8,000, at least 50; two years)")
	if err := fs.Parse(args); err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	if bookings < 0 || fs.NArg() > 0 {
		return 0, fmt.Errorf("seed: usage: booking seed [--bookings N]")
	}
	return bookings, nil
}
