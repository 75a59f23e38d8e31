// Package storetest gives each test its own freshly migrated PostgreSQL database, dropped at
// cleanup, so tests never see each other's rows.
//
// The databases are cloned from a template migrated once per schema (CREATE DATABASE ...
// TEMPLATE): copying a small database is a file copy, where running every migration for
// every test was most of a store test's time.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clinicbook/booking/store"
)

// AdminURL is the server-level connection tests create their databases through.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// templateLock is the advisory lock under which a template is made: test binaries of several
// packages run at once and would otherwise all build the same one.
const templateLock = 0x626f6f6b696e67 // "booking"

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// template returns the migrated template database for this binary's schema, creating it once.
// Its name carries the schema digest, so a changed migration gets a new template rather than
// a stale one.
func template(ctx context.Context) (string, error) {
	templateOnce.Do(func() {
		templateName, templateErr = ensureTemplate(ctx, "booking_tmpl_"+store.SchemaDigest())
	})
	return templateName, templateErr
}

func ensureTemplate(ctx context.Context, name string) (string, error) {
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return "", fmt.Errorf("PostgreSQL is not reachable at %s: %w", AdminURL(), err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return "", fmt.Errorf("lock: %w", err)
	}
	// Closing the connection would release the lock too; unlocking says when.
	defer func() { _, _ = admin.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", templateLock) }()
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	// Built under another name and renamed when complete: a run killed halfway leaves a
	// half-migrated database that no test will clone.
	building := name + "_building"
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	pool, err := store.Open(ctx, dbURL(building))
	if err != nil {
		return "", err
	}
	err = store.Migrate(ctx, pool)
	pool.Close() // a template with open connections cannot be copied
	if err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		return "", fmt.Errorf("rename template: %w", err)
	}
	return name, nil
}

func dbURL(name string) string {
	u, err := url.Parse(AdminURL())
	if err != nil {
		panic(fmt.Sprintf("storetest: parse admin URL: %v", err))
	}
	u.Path = "/" + name
	return u.String()
}

// NewURL creates an empty migrated database and returns its URL; it is dropped at cleanup.
func NewURL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	tmpl, err := template(ctx)
	if err != nil {
		t.Fatalf("storetest: template database: %v", err)
	}
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("storetest: PostgreSQL is not reachable at %s: %v", AdminURL(), err)
	}
	defer admin.Close(ctx)

	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "booking_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+tmpl); err != nil {
		t.Fatalf("storetest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			t.Logf("storetest: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("storetest: drop %s: %v", name, err)
		}
	})
	return dbURL(name)
}

// New returns a pool on a fresh migrated database, closed and dropped at cleanup.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dbURL := NewURL(t)
	pool, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}
