package web

import (
	"io/fs"
	"testing"
)

// The committed placeholder keeps the embed pattern matching, and Dist is rooted at dist/.
func TestDistIsRootedAtDist(t *testing.T) {
	b, err := fs.ReadFile(Dist, "robots.txt")
	if err != nil {
		t.Fatalf("robots.txt is not at the root of Dist: %v", err)
	}
	if len(b) == 0 {
		t.Fatalf("robots.txt is empty")
	}
	if _, err := fs.Stat(Dist, "dist"); err == nil {
		t.Errorf("Dist holds a dist directory: it must be rooted inside it")
	}
}
