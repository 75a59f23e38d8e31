package store

import (
	"context"
	"fmt"
	"time"

	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store/internal/db"
)

// providerRow is any generated row type of a query returning a provider's columns
// (queries/catalog.sql); each converts to db.GetProviderRow.
type providerRow interface {
	db.GetProviderRow | db.GetProviderByUserRow | db.ListProvidersRow
}

func providerOf[R providerRow](row R) domain.Provider {
	r := db.GetProviderRow(row)
	return domain.Provider{ID: r.ID, Name: r.Name, Specialty: r.Specialty, TimeZone: r.TimeZone, UserID: r.UserID}
}

// ListProviders returns every provider, by name.
func (s *Store) ListProviders(ctx context.Context) ([]domain.Provider, error) {
	rows, err := s.q.ListProviders(ctx)
	if err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	out := make([]domain.Provider, len(rows))
	for i, r := range rows {
		out[i] = providerOf(r)
	}
	return out, nil
}

// GetProvider returns one provider.
func (s *Store) GetProvider(ctx context.Context, id string) (domain.Provider, error) {
	r, err := s.q.GetProvider(ctx, id)
	if err != nil {
		return domain.Provider{}, notFound(err, "provider")
	}
	return providerOf(r), nil
}

// GetProviderByUser returns the provider a login belongs to.
func (s *Store) GetProviderByUser(ctx context.Context, userID string) (domain.Provider, error) {
	r, err := s.q.GetProviderByUser(ctx, userID)
	if err != nil {
		return domain.Provider{}, notFound(err, "provider")
	}
	return providerOf(r), nil
}

// CreateProvider inserts a provider.
func (s *Store) CreateProvider(ctx context.Context, p domain.Provider) error {
	err := s.q.CreateProvider(ctx, db.CreateProviderParams{ID: p.ID, Name: p.Name, Specialty: p.Specialty, TimeZone: p.TimeZone, UserID: p.UserID})
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
	rows, err := s.q.ListServices(ctx)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	out := make([]domain.Service, len(rows))
	for i, r := range rows {
		out[i] = domain.Service{ID: r.ID, Name: r.Name, DurationMinutes: r.DurationMinutes}
	}
	return out, nil
}

// GetService returns one service.
func (s *Store) GetService(ctx context.Context, id string) (domain.Service, error) {
	r, err := s.q.GetService(ctx, id)
	if err != nil {
		return domain.Service{}, notFound(err, "service")
	}
	return domain.Service{ID: r.ID, Name: r.Name, DurationMinutes: r.DurationMinutes}, nil
}

// CreateService inserts a service.
func (s *Store) CreateService(ctx context.Context, svc domain.Service) error {
	err := s.q.CreateService(ctx, db.CreateServiceParams{ID: svc.ID, Name: svc.Name, DurationMinutes: svc.DurationMinutes})
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
	weekly, err := s.q.ListWorkingHours(ctx, providerID)
	if err != nil {
		return domain.Schedule{}, fmt.Errorf("get schedule: %w", err)
	}
	for _, h := range weekly {
		sched.Weekly = append(sched.Weekly, domain.WorkingHours{Weekday: time.Weekday(h.Weekday), Start: domain.Clock(h.StartMinute), End: domain.Clock(h.EndMinute)})
	}
	exceptions, err := s.q.ListScheduleExceptions(ctx, providerID)
	if err != nil {
		return domain.Schedule{}, fmt.Errorf("get schedule: %w", err)
	}
	for _, r := range exceptions {
		d := domain.DateOf(r.Day)
		n := len(sched.Exceptions)
		if n == 0 || sched.Exceptions[n-1].Date != d {
			sched.Exceptions = append(sched.Exceptions, domain.Exception{Date: d, Closed: true})
			n++
		}
		if r.StartMinute != nil {
			ex := &sched.Exceptions[n-1]
			ex.Closed = false
			ex.Hours = append(ex.Hours, domain.TimeRange{Start: domain.Clock(*r.StartMinute), End: domain.Clock(*r.EndMinute)})
		}
	}
	return sched, nil
}

// ReplaceSchedule swaps a provider's whole schedule for sched in one transaction.
func (s *Store) ReplaceSchedule(ctx context.Context, providerID string, sched domain.Schedule) error {
	return s.inTx(ctx, func(q *db.Queries) error {
		if err := q.DeleteWorkingHours(ctx, providerID); err != nil {
			return fmt.Errorf("replace schedule: %w", err)
		}
		if err := q.DeleteScheduleExceptions(ctx, providerID); err != nil {
			return fmt.Errorf("replace schedule: %w", err)
		}
		for _, h := range sched.Weekly {
			if err := q.AddWorkingHours(ctx, db.AddWorkingHoursParams{ProviderID: providerID, Weekday: int(h.Weekday),
				StartMinute: int(h.Start), EndMinute: int(h.End)}); err != nil {
				if pgCode(err) == codeUniqueViolation {
					return domain.Invalid("two weekly intervals start at the same time", domain.FieldError{Field: "weekly", Message: "duplicate start time"})
				}
				return fmt.Errorf("replace schedule: %w", err)
			}
		}
		for _, ex := range sched.Exceptions {
			day := time.Date(ex.Date.Year, ex.Date.Month, ex.Date.Day, 0, 0, 0, 0, time.UTC)
			if ex.Closed || len(ex.Hours) == 0 {
				if err := q.AddScheduleException(ctx, db.AddScheduleExceptionParams{ProviderID: providerID, Day: day}); err != nil {
					return fmt.Errorf("replace schedule: %w", err)
				}
				continue
			}
			for _, h := range ex.Hours {
				start, end := int(h.Start), int(h.End)
				if err := q.AddScheduleException(ctx, db.AddScheduleExceptionParams{ProviderID: providerID, Day: day,
					StartMinute: &start, EndMinute: &end}); err != nil {
					return fmt.Errorf("replace schedule: %w", err)
				}
			}
		}
		return nil
	})
}
