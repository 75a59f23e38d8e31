package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clinicbook/booking/domain"
)

// ListProviders returns every provider, by name.
func (s *Store) ListProviders(ctx context.Context) ([]domain.Provider, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, specialty, time_zone, coalesce(user_id, '') FROM providers ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	return pgx.CollectRows(rows, scanProvider)
}

// GetProvider returns one provider.
func (s *Store) GetProvider(ctx context.Context, id string) (domain.Provider, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, name, specialty, time_zone, coalesce(user_id, '') FROM providers WHERE id = $1`, id)
	p, err := pgx.CollectExactlyOneRow(rows, scanProvider)
	if err != nil {
		return domain.Provider{}, notFound(err, "provider")
	}
	return p, nil
}

// GetProviderByUser returns the provider a login belongs to.
func (s *Store) GetProviderByUser(ctx context.Context, userID string) (domain.Provider, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, name, specialty, time_zone, coalesce(user_id, '') FROM providers WHERE user_id = $1`, userID)
	p, err := pgx.CollectExactlyOneRow(rows, scanProvider)
	if err != nil {
		return domain.Provider{}, notFound(err, "provider")
	}
	return p, nil
}

func scanProvider(row pgx.CollectableRow) (domain.Provider, error) {
	var p domain.Provider
	err := row.Scan(&p.ID, &p.Name, &p.Specialty, &p.TimeZone, &p.UserID)
	return p, err
}

// CreateProvider inserts a provider.
func (s *Store) CreateProvider(ctx context.Context, p domain.Provider) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO providers (id, name, specialty, time_zone, user_id) VALUES ($1, $2, $3, $4, nullif($5, ''))`,
		p.ID, p.Name, p.Specialty, p.TimeZone, p.UserID)
	if pgCode(err) == codeUniqueViolation {
		return domain.Errorf(domain.KindConflict, "that login already belongs to a provider")
	}
	if pgCode(err) == codeForeignKey {
		return domain.Invalid("unknown user", domain.FieldError{Field: "user_id", Message: "no such user"})
	}
	if err != nil {
		return fmt.Errorf("create provider: %w", err)
	}
	return nil
}

// ListServices returns every service, by name.
func (s *Store) ListServices(ctx context.Context) ([]domain.Service, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, duration_minutes FROM services ORDER BY duration_minutes, name`)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	return pgx.CollectRows(rows, scanService)
}

// GetService returns one service.
func (s *Store) GetService(ctx context.Context, id string) (domain.Service, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, name, duration_minutes FROM services WHERE id = $1`, id)
	svc, err := pgx.CollectExactlyOneRow(rows, scanService)
	if err != nil {
		return domain.Service{}, notFound(err, "service")
	}
	return svc, nil
}

func scanService(row pgx.CollectableRow) (domain.Service, error) {
	var svc domain.Service
	err := row.Scan(&svc.ID, &svc.Name, &svc.DurationMinutes)
	return svc, err
}

// CreateService inserts a service.
func (s *Store) CreateService(ctx context.Context, svc domain.Service) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO services (id, name, duration_minutes) VALUES ($1, $2, $3)`, svc.ID, svc.Name, svc.DurationMinutes)
	if pgCode(err) == codeUniqueViolation {
		return domain.Errorf(domain.KindConflict, "a service named %q exists already", svc.Name)
	}
	if err != nil {
		return fmt.Errorf("create service: %w", err)
	}
	return nil
}

// GetSchedule returns a provider's weekly hours and exceptions.
func (s *Store) GetSchedule(ctx context.Context, providerID string) (domain.Schedule, error) {
	p, err := s.GetProvider(ctx, providerID)
	if err != nil {
		return domain.Schedule{}, err
	}
	sched := domain.Schedule{TimeZone: p.TimeZone, Weekly: []domain.WorkingHours{}, Exceptions: []domain.Exception{}}
	rows, err := s.pool.Query(ctx, `SELECT weekday, start_minute, end_minute FROM working_hours WHERE provider_id = $1 ORDER BY weekday, start_minute`, providerID)
	if err != nil {
		return domain.Schedule{}, fmt.Errorf("get schedule: %w", err)
	}
	sched.Weekly, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.WorkingHours, error) {
		var wd, start, end int16
		err := row.Scan(&wd, &start, &end)
		return domain.WorkingHours{Weekday: time.Weekday(wd), Start: domain.Clock(start), End: domain.Clock(end)}, err
	})
	if err != nil {
		return domain.Schedule{}, fmt.Errorf("get schedule: %w", err)
	}
	rows, err = s.pool.Query(ctx, `SELECT day, start_minute, end_minute FROM schedule_exceptions WHERE provider_id = $1 ORDER BY day, start_minute NULLS FIRST`, providerID)
	if err != nil {
		return domain.Schedule{}, fmt.Errorf("get schedule: %w", err)
	}
	type exRow struct {
		day        time.Time
		start, end *int16
	}
	exRows, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (exRow, error) {
		var r exRow
		err := row.Scan(&r.day, &r.start, &r.end)
		return r, err
	})
	if err != nil {
		return domain.Schedule{}, fmt.Errorf("get schedule: %w", err)
	}
	for _, r := range exRows {
		d := domain.DateOf(r.day)
		n := len(sched.Exceptions)
		if n == 0 || sched.Exceptions[n-1].Date != d {
			sched.Exceptions = append(sched.Exceptions, domain.Exception{Date: d, Closed: true})
			n++
		}
		if r.start != nil {
			ex := &sched.Exceptions[n-1]
			ex.Closed = false
			ex.Hours = append(ex.Hours, domain.TimeRange{Start: domain.Clock(*r.start), End: domain.Clock(*r.end)})
		}
	}
	return sched, nil
}

// ReplaceSchedule swaps a provider's whole schedule for sched in one transaction.
func (s *Store) ReplaceSchedule(ctx context.Context, providerID string, sched domain.Schedule) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM working_hours WHERE provider_id = $1`, providerID); err != nil {
			return fmt.Errorf("replace schedule: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM schedule_exceptions WHERE provider_id = $1`, providerID); err != nil {
			return fmt.Errorf("replace schedule: %w", err)
		}
		for _, h := range sched.Weekly {
			if _, err := tx.Exec(ctx, `INSERT INTO working_hours (provider_id, weekday, start_minute, end_minute) VALUES ($1, $2, $3, $4)`,
				providerID, int(h.Weekday), int(h.Start), int(h.End)); err != nil {
				if pgCode(err) == codeUniqueViolation {
					return domain.Invalid("two weekly intervals start at the same time", domain.FieldError{Field: "weekly", Message: "duplicate start time"})
				}
				return fmt.Errorf("replace schedule: %w", err)
			}
		}
		for _, ex := range sched.Exceptions {
			day := time.Date(ex.Date.Year, ex.Date.Month, ex.Date.Day, 0, 0, 0, 0, time.UTC)
			if ex.Closed || len(ex.Hours) == 0 {
				if _, err := tx.Exec(ctx, `INSERT INTO schedule_exceptions (provider_id, day) VALUES ($1, $2)`, providerID, day); err != nil {
					return fmt.Errorf("replace schedule: %w", err)
				}
				continue
			}
			for _, h := range ex.Hours {
				if _, err := tx.Exec(ctx, `INSERT INTO schedule_exceptions (provider_id, day, start_minute, end_minute) VALUES ($1, $2, $3, $4)`,
					providerID, day, int(h.Start), int(h.End)); err != nil {
					return fmt.Errorf("replace schedule: %w", err)
				}
			}
		}
		return nil
	})
}

// BusyIntervals returns the time a provider's held, confirmed or checked-in bookings occupy
// between from and to, in start order.
func (s *Store) BusyIntervals(ctx context.Context, providerID string, from, to time.Time) ([]domain.Slot, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT start_at, end_at FROM bookings
		WHERE provider_id = $1 AND status IN ('held', 'confirmed', 'checked_in')
		  AND during && tstzrange($2, $3, '[)')
		ORDER BY start_at`, providerID, from, to)
	if err != nil {
		return nil, fmt.Errorf("busy intervals: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Slot, error) {
		var sl domain.Slot
		err := row.Scan(&sl.Start, &sl.End)
		return sl, err
	})
}
