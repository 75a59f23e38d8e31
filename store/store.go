// Package store is the platform's PostgreSQL data access: the migrations, the pool and every
// query. SQL lives here and nowhere else: the queries in queries/*.sql, from which sqlc
// generates the typed code of internal/db (make sqlc; never edited by hand), with the
// migrations as its schema. This package wraps that code with the domain's types, the
// transaction helper and the mapping of PostgreSQL errors to domain errors.
package store

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store/internal/db"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store wraps the pool with the platform's queries.
type Store struct {
	pool *pgxpool.Pool
	q    *db.Queries // the generated queries, on the pool
}

// New wraps an open pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool, q: db.New(pool)} }

// Pool is the underlying pool, for health checks.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// OpenOption adjusts the pool before it connects.
type OpenOption func(*pgxpool.Config)

// WithMaxConns sizes the pool; n < 1 keeps pgx's default.
func WithMaxConns(n int) OpenOption {
	return func(c *pgxpool.Config) {
		if n > 0 {
			c.MaxConns = int32(min(n, 1<<20))
		}
	}
}

// WithTracer sees every query the pool's connections run (tests count statements with it).
func WithTracer(t pgx.QueryTracer) OpenOption {
	return func(c *pgxpool.Config) { c.ConnConfig.Tracer = t }
}

// Open connects to databaseURL and checks the connection.
func Open(ctx context.Context, databaseURL string, opts ...OpenOption) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	for _, o := range opts {
		o(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("reach database: %w", err)
	}
	return pool, nil
}

// Migrate applies every migration not yet applied. Tern holds an advisory lock while it works,
// so the API and the worker starting together do not race.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	m, err := migrate.NewMigrator(ctx, conn.Conn(), "schema_version")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := m.LoadMigrations(sub); err != nil {
		return fmt.Errorf("migrate: load: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// SchemaDigest identifies the migrations built into this binary: tests keep one migrated
// template database per digest and clone it, instead of migrating a database per test.
func SchemaDigest() string {
	h := sha256.New()
	entries, _ := fs.ReadDir(migrations, "migrations") // embedded: cannot fail
	for _, e := range entries {
		b, _ := migrations.ReadFile("migrations/" + e.Name())
		fmt.Fprintf(h, "%s %d\n", e.Name(), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// inTx runs fn with the generated queries in a transaction, committed when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(q *db.Queries) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(s.q.WithTx(tx)) })
}

// PostgreSQL error codes we turn into domain errors.
const (
	codeUniqueViolation    = "23505"
	codeExclusionViolation = "23P01"
	codeForeignKey         = "23503"
)

// ErrSlotTaken is returned when the database refuses a booking that overlaps another.
var ErrSlotTaken = &domain.Error{Kind: domain.KindConflict, Message: "the slot is already taken"}

// pgCode returns the SQLSTATE of a PostgreSQL error, "" for other errors.
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// constraintOf names the constraint a PostgreSQL error broke.
func constraintOf(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName
	}
	return ""
}

// notFound turns pgx.ErrNoRows into a domain not-found error.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Errorf(domain.KindNotFound, "%s not found", what)
	}
	return err
}

// EnsureDatabase creates the database databaseURL names when it does not exist yet, through
// the server's maintenance database, so a fresh machine needs no manual createdb.
func EnsureDatabase(ctx context.Context, databaseURL string) error {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	name := cfg.Database
	if name == "" || name == "postgres" {
		return nil
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("reach PostgreSQL at %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	defer conn.Close(ctx)
	exists, err := db.New(conn).DatabaseExists(ctx, name)
	if err != nil {
		return fmt.Errorf("look for database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	// Written here: sqlc generates no statement whose identifier is chosen at run time.
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if err != nil && pgCode(err) != "42P04" { // created meanwhile by another process
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
