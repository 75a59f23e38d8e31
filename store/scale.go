package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clinicbook/booking/store/internal/db"
)

// ScaleSpec describes a clinic group to generate for measuring: Providers doctors (alternately
// in Europe/Berlin and America/New_York, Monday to Friday 08:00-12:00 and 13:00-17:00 local),
// Patients patients, and Bookings bookings over Span centred on Now.
type ScaleSpec struct {
	Bookings  int
	Providers int
	Patients  int
	Now       time.Time
	Span      time.Duration
}

// ScaleBatch is how many bookings one INSERT writes.
const ScaleBatch = 100_000

// ScalePrefix starts the id of every provider and patient SeedScale makes.
const ScalePrefix = "scale-"

// SeedScale fills the database with spec's clinic group, in a few set-based statements. The
// working hours are cut into appointments of 15, 30 and 60 minutes that never overlap (a tenth
// of the hours stay free); the bookings on them are completed or no-shows in the past, checked
// in now, confirmed or held ahead. A share of the bookings (at least 15%, more when the hours
// cannot fit the rest) are cancelled or expired ones lying on the same times, as slots given up
// and taken again. progress, when not nil, hears how many bookings are written so far.
func (s *Store) SeedScale(ctx context.Context, spec ScaleSpec, progress func(done int)) (map[string]int, error) {
	if spec.Bookings < 1 || spec.Providers < 1 || spec.Patients < 1 || spec.Span <= 0 {
		return nil, fmt.Errorf("seed scale: bookings, providers, patients and span must be positive")
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("seed scale: %w", err)
	}
	defer conn.Release()
	q := db.New(conn)
	exists, err := q.ScaleGroupExists(ctx, ScalePrefix)
	if err != nil {
		return nil, fmt.Errorf("seed scale: %w", err)
	}
	if exists {
		return nil, fmt.Errorf("seed scale: the database holds a generated clinic group already")
	}
	// The data is regenerable: losing the last commits to a crash costs nothing.
	if err := q.SkipCommitFlush(ctx); err != nil {
		return nil, fmt.Errorf("seed scale: %w", err)
	}
	from := spec.Now.Add(-spec.Span / 2)
	to := spec.Now.Add(spec.Span / 2)

	// The clinic group's rows, from queries/scale.sql.
	fill := []struct {
		what string
		add  func(q *db.Queries) error
	}{
		{"services", func(q *db.Queries) error { return q.AddScaleServices(ctx) }},
		{"providers", func(q *db.Queries) error { return q.AddScaleProviders(ctx, spec.Providers) }},
		{"working hours", func(q *db.Queries) error { return q.AddScaleWorkingHours(ctx, spec.Providers) }},
		{"patients", func(q *db.Queries) error { return q.AddScalePatients(ctx, spec.Patients) }},
	}
	// The appointments and bookings, through temporary tables this transaction makes: sqlc
	// checks a query against the migrations' tables only, so these statements stay here.
	setup := []struct {
		what string
		sql  string
		args []any
	}{
		// The clinic's own services of those lengths, when it has them.
		{"services", `CREATE TEMP TABLE scale_services ON COMMIT DROP AS
			SELECT duration_minutes AS len, min(id) AS id FROM services WHERE duration_minutes IN (15, 30, 60) GROUP BY duration_minutes`, nil},
		// Every appointment the hours could hold, ranked in a scattered order: the ones under
		// way now first (so that a small data set has someone checked in), then by a hash.
		{"appointments", `CREATE TEMP TABLE scale_slots ON COMMIT DROP AS
			WITH blocks AS (
				SELECT p.id AS provider_id,
				       ((d::date + make_interval(mins => m))::timestamp AT TIME ZONE p.time_zone) AS block_start
				FROM providers p,
				     generate_series(($1::timestamptz - interval '1 day')::date, ($2::timestamptz + interval '1 day')::date, interval '1 day') d,
				     unnest(ARRAY[480, 540, 600, 660, 780, 840, 900, 960]) m
				WHERE p.id LIKE 'scale-p-%' AND extract(isodow FROM d) < 6),
			cut AS (
				SELECT provider_id, block_start,
				       CASE WHEN h < 4 THEN 0 WHEN h < 11 THEN 1 WHEN h < 14 THEN 2 WHEN h < 16 THEN 3 WHEN h < 18 THEN 4 ELSE 5 END AS pattern
				FROM (SELECT *, abs(hashtext(provider_id || block_start::text)) % 20 AS h FROM blocks) b),
			parts (pattern, off, len) AS (VALUES (0, 0, 60), (1, 0, 30), (1, 30, 30), (2, 0, 15), (2, 15, 15), (2, 30, 30),
				(3, 0, 30), (3, 30, 15), (3, 45, 15), (4, 0, 15), (4, 15, 15), (4, 30, 15), (4, 45, 15))
			SELECT c.provider_id, c.block_start + make_interval(mins => pt.off) AS start_at, pt.len,
			       row_number() OVER (ORDER BY (c.block_start + make_interval(mins => pt.off) <= $3::timestamptz + interval '30 minutes'
			                                    AND c.block_start + make_interval(mins => pt.off + pt.len) > $3::timestamptz) DESC,
			                                   hashtext(c.provider_id || c.block_start::text || pt.off)) AS rnk
			FROM cut c JOIN parts pt USING (pattern)
			WHERE c.block_start >= $1 AND c.block_start < $2`, []any{from, to, spec.Now}},
		{"appointments", `CREATE INDEX ON scale_slots (rnk)`, nil},
	}

	var counts map[string]int
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		txq := q.WithTx(tx)
		for _, f := range fill {
			if err := f.add(txq); err != nil {
				return fmt.Errorf("seed scale: %s: %w", f.what, err)
			}
		}
		for _, st := range setup {
			if _, err := tx.Exec(ctx, st.sql, st.args...); err != nil {
				return fmt.Errorf("seed scale: %s: %w", st.what, err)
			}
		}
		var slots int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM scale_slots`).Scan(&slots); err != nil {
			return fmt.Errorf("seed scale: %w", err)
		}
		// Slots given up and taken again: at least 15% of the bookings, and all that the
		// hours cannot fit.
		booked := min(spec.Bookings-spec.Bookings*15/100, slots)
		if booked < 1 {
			return fmt.Errorf("seed scale: %d providers over %s have no working hours to book", spec.Providers, spec.Span)
		}
		again := spec.Bookings - booked
		done := 0
		for lo := 1; lo <= booked; lo += ScaleBatch {
			hi := min(lo+ScaleBatch-1, booked)
			if _, err := tx.Exec(ctx, `INSERT INTO bookings (id, status, provider_id, service_id, patient_id, start_at, end_at,
					hold_expires_at, created_at, updated_at)
				SELECT md5('scale-booking-' || rnk)::uuid::text, st, provider_id, (SELECT id FROM scale_services sv WHERE sv.len = s.len),
				       'scale-u-' || (abs(hashtext('patient' || rnk)) % $4 + 1), start_at, end_at,
				       CASE WHEN st = 'held' THEN $3::timestamptz + interval '10 minutes' END,
				       least($3, start_at - make_interval(days => (rnk % 30)::int)), least($3, greatest(end_at, start_at - make_interval(days => (rnk % 30)::int)))
				FROM (SELECT *, start_at + make_interval(mins => len) AS end_at,
				             CASE WHEN start_at + make_interval(mins => len) <= $3 THEN CASE WHEN rnk % 12 = 0 THEN 'no_show' ELSE 'completed' END
				                  WHEN start_at <= $3::timestamptz + interval '30 minutes' THEN 'checked_in'
				                  WHEN rnk % 40 = 0 THEN 'held' ELSE 'confirmed' END AS st
				      FROM scale_slots WHERE rnk BETWEEN $1 AND $2) s`, lo, hi, spec.Now, spec.Patients); err != nil {
				return fmt.Errorf("seed scale: bookings: %w", err)
			}
			done += hi - lo + 1
			if progress != nil {
				progress(done)
			}
		}
		for lo := 1; lo <= again; lo += ScaleBatch {
			hi := min(lo+ScaleBatch-1, again)
			if _, err := tx.Exec(ctx, `INSERT INTO bookings (id, status, provider_id, service_id, patient_id, start_at, end_at,
					cancel_reason_code, created_at, updated_at)
				SELECT md5('scale-again-' || j)::uuid::text, CASE WHEN j % 3 = 0 THEN 'expired' ELSE 'cancelled' END,
				       s.provider_id, (SELECT id FROM scale_services sv WHERE sv.len = s.len), 'scale-u-' || (abs(hashtext('again' || j)) % $5 + 1),
				       s.start_at, s.start_at + make_interval(mins => s.len),
				       CASE WHEN j % 3 = 0 THEN '' ELSE 'patient_request' END,
				       least($3, s.start_at - interval '40 days'), least($3, s.start_at - interval '10 days')
				FROM generate_series($1::int, $2::int) j
				JOIN scale_slots s ON s.rnk = (j::bigint * 7919) % $4 + 1`, lo, hi, spec.Now, booked, spec.Patients); err != nil {
				return fmt.Errorf("seed scale: bookings given up: %w", err)
			}
			done += hi - lo + 1
			if progress != nil {
				progress(done)
			}
		}
		byStatus, err := txq.CountScaleBookings(ctx)
		if err != nil {
			return fmt.Errorf("seed scale: %w", err)
		}
		counts = map[string]int{}
		for _, c := range byStatus {
			counts[c.Status] = c.Count
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The visibility map lets the reads answer from their indexes alone; fresh statistics
	// let the planner choose them.
	if err := q.VacuumBookings(ctx); err != nil {
		return nil, fmt.Errorf("seed scale: vacuum: %w", err)
	}
	return counts, nil
}
