// Package layers holds no code: its test keeps the import rules of ARCHITECTURE.md, so a
// package reaching past its layer fails `make test` instead of waiting for a reviewer.
package layers
