package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/clinicbook/booking/domain"
)

// Password length bounds, in characters. The upper bound keeps a hostile caller from making
// us hash megabytes.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 128
)

// argon2Params are the cost parameters written into every new hash. The OWASP minimum for
// argon2id (19 MiB, 2 passes, 1 lane) keeps a login near tens of milliseconds. Hashes carry their
// own parameters, so raising these later still verifies the old ones.
type argon2Params struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	saltLen int
	keyLen  uint32
}

var defaultParams = argon2Params{memory: 19 * 1024, time: 2, threads: 1, saltLen: 16, keyLen: 32}

// Bounds on parameters read back from a stored hash, so that a corrupted row cannot make one
// login allocate gigabytes or spin for minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 16
	maxKeyLen    = 128
)

// CheckPasswordPolicy explains what is wrong with a password, "" when it is acceptable.
func CheckPasswordPolicy(pw string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case pw == "":
		return "required"
	case n < MinPasswordLength:
		return fmt.Sprintf("must be at least %d characters", MinPasswordLength)
	case n > MaxPasswordLength:
		return fmt.Sprintf("must be at most %d characters", MaxPasswordLength)
	}
	return ""
}

// HashPassword hashes pw with argon2id and a random salt, in the PHC string format
// $argon2id$v=19$m=...,t=...,p=...$salt$hash.
func HashPassword(pw string) (string, error) {
	return hashWith(pw, defaultParams)
}

func hashWith(pw string, p argon2Params) (string, error) {
	salt := make([]byte, p.saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, p.keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches hash. A malformed hash matches nothing.
func CheckPassword(hash, pw string) bool {
	p, salt, want, err := parseHash(hash)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

var errBadHash = errors.New("not an argon2id PHC hash")

func parseHash(hash string) (argon2Params, []byte, []byte, error) {
	var p argon2Params
	parts := strings.Split(hash, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errBadHash
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &threads); err != nil {
		return p, nil, nil, errBadHash
	}
	if p.time < 1 || p.time > maxTime || threads < 1 || threads > 255 ||
		p.memory < 8*threads || p.memory > maxMemoryKiB {
		return p, nil, nil, errBadHash
	}
	p.threads = uint8(threads)
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, errBadHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > maxKeyLen {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// DefaultHashMemory is the password-hashing budget when none is configured: two hashes at once.
const DefaultHashMemory = 96 << 20

// hashMemory is what one hash with defaultParams allocates, in bytes.
var hashMemory = int64(defaultParams.memory) << 10

// hashFootprint is what one hash costs the budget: its memory, and as much again, because
// what a finished hash allocated stays on the heap as garbage until the next collection, and
// with GOGC=100 the heap grows to twice what was live before one runs. Measured under a login
// storm: resident memory rose by 2 x 19 MiB per hash allowed to run at once.
var hashFootprint = 2 * hashMemory

// errHashBusy answers a login or sign-up that found every hashing slot taken. The client may
// well succeed a second later; what it must not do is make us queue without bound.
var errHashBusy = &domain.Error{Kind: domain.KindUnavailable, RetryAfterSeconds: 1,
	Message: "too many sign-ins at this moment; try again shortly"}

// hashLimiter bounds the memory that password hashing holds at once. Each argon2id run
// allocates its whole memory cost up front, so a flood of logins (even for unknown emails,
// which hash a dummy) would otherwise take the process past its container's limit.
//
// It is a weighted semaphore that does not queue: a caller waits at most wait for its slots,
// and then gives up with errHashBusy.
type hashLimiter struct {
	slots int
	wait  time.Duration

	mu    sync.Mutex
	free  int
	freed chan struct{} // closed, and replaced, whenever slots are released
}

func newHashLimiter(budget int64, wait time.Duration) *hashLimiter {
	slots := max(int(budget/hashFootprint), 1)
	return &hashLimiter{slots: slots, wait: wait, free: slots, freed: make(chan struct{})}
}

// weight is how many slots a hash with memory KiB takes (a slot holds one of today's): stored
// hashes may carry a higher cost. A hash heavier than the whole budget takes all of it and runs
// alone.
func (l *hashLimiter) weight(memoryKiB uint32) int {
	n := int((int64(memoryKiB)<<10 + hashMemory - 1) / hashMemory)
	return min(max(n, 1), l.slots)
}

// acquire takes n slots, waiting at most l.wait for them; the caller must release them.
func (l *hashLimiter) acquire(ctx context.Context, n int) error {
	var timeout <-chan time.Time
	for {
		l.mu.Lock()
		if l.free >= n {
			l.free -= n
			l.mu.Unlock()
			return nil
		}
		freed := l.freed
		l.mu.Unlock()
		if timeout == nil {
			if l.wait <= 0 {
				return errHashBusy
			}
			t := time.NewTimer(l.wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-freed:
		case <-timeout:
			return errHashBusy
		case <-ctx.Done():
			return fmt.Errorf("wait to hash a password: %w", ctx.Err())
		}
	}
}

func (l *hashLimiter) release(n int) {
	l.mu.Lock()
	l.free += n
	close(l.freed)
	l.freed = make(chan struct{})
	l.mu.Unlock()
}

// hash is HashPassword within the budget.
func (l *hashLimiter) hash(ctx context.Context, pw string) (string, error) {
	n := l.weight(defaultParams.memory)
	if err := l.acquire(ctx, n); err != nil {
		return "", err
	}
	defer l.release(n)
	return HashPassword(pw)
}

// reserve takes the slots checking a password against hash needs and returns their release.
// A malformed hash matches nothing and costs nothing.
func (l *hashLimiter) reserve(ctx context.Context, hash string) (func(), error) {
	p, _, _, err := parseHash(hash)
	if err != nil {
		return func() {}, nil
	}
	n := l.weight(p.memory)
	if err := l.acquire(ctx, n); err != nil {
		return nil, err
	}
	return func() { l.release(n) }, nil
}
