// Package seed fills an empty database with a demo clinic: doctors in two time zones, services
// of three lengths, working hours, a closed day, and logins to try it with.
package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/clinicbook/booking/domain"
)

// Demo logins, printed by `make dev`.
const (
	PatientEmail    = "patient@clinic.test"
	PatientPassword = "patient-pass-1"
	PatientPhone    = "+15550100001"
	DoctorPassword  = "doctor-pass-1"
)

// Store is what seeding writes through.
type Store interface {
	ListProviders(ctx context.Context) ([]domain.Provider, error)
	CreateProvider(ctx context.Context, p domain.Provider) error
	CreateService(ctx context.Context, s domain.Service) error
	ReplaceSchedule(ctx context.Context, providerID string, sched domain.Schedule) error
	GetUserByEmail(ctx context.Context, email string) (domain.User, error)
	MarkVerified(ctx context.Context, userID, channel string, at time.Time) error
}

// Accounts creates logins with hashed passwords.
type Accounts interface {
	CreateUser(ctx context.Context, email, password, name, phone string, role domain.Role) (domain.User, error)
}

type doctor struct {
	name, specialty, zone, email string
	weekly                       []domain.WorkingHours
	// closedInDays closes the date that many days after seeding (a conference, say).
	closedInDays int
}

func weekdays(spans ...[2]string) []domain.WorkingHours {
	var out []domain.WorkingHours
	for wd := time.Monday; wd <= time.Friday; wd++ {
		for _, sp := range spans {
			out = append(out, domain.WorkingHours{Weekday: wd, Start: clock(sp[0]), End: clock(sp[1])})
		}
	}
	return out
}

func clock(s string) domain.Clock {
	c, err := domain.ParseClock(s)
	if err != nil {
		panic(err) // the literals below are ours
	}
	return c
}

var doctors = []doctor{
	{name: "Dr. Anna Weber", specialty: "General practice", zone: "Europe/Berlin", email: "anna.weber@clinic.test",
		weekly: weekdays([2]string{"08:00", "12:00"}, [2]string{"13:00", "17:00"}), closedInDays: 2},
	{name: "Dr. Luca Rossi", specialty: "Dermatology", zone: "Europe/Berlin", email: "luca.rossi@clinic.test",
		weekly: append(weekdays([2]string{"09:00", "13:00"}, [2]string{"14:00", "18:00"}),
			domain.WorkingHours{Weekday: time.Saturday, Start: clock("09:00"), End: clock("12:00")})},
	{name: "Dr. Maya Chen", specialty: "Pediatrics", zone: "America/New_York", email: "maya.chen@clinic.test",
		weekly: weekdays([2]string{"09:00", "17:00"})},
}

var services = []domain.Service{
	{Name: "Quick check", DurationMinutes: 15},
	{Name: "Consultation", DurationMinutes: 30},
	{Name: "Extended visit", DurationMinutes: 60},
}

// Demo seeds the clinic unless there are providers already; it reports whether it did.
func Demo(ctx context.Context, st Store, accounts Accounts, now time.Time) (bool, error) {
	existing, err := st.ListProviders(ctx)
	if err != nil {
		return false, err
	}
	if len(existing) > 0 {
		// A clinic seeded before contacts were verified keeps working as the README shows.
		return false, verifyDemoPatient(ctx, st, now)
	}
	if _, err := accounts.CreateUser(ctx, PatientEmail, PatientPassword, "Pat Demo", PatientPhone, domain.RolePatient); err != nil && !domain.IsKind(err, domain.KindConflict) {
		return false, fmt.Errorf("seed patient: %w", err)
	}
	if err := verifyDemoPatient(ctx, st, now); err != nil {
		return false, err
	}
	for _, svc := range services {
		svc.ID = uuid.NewString()
		if err := st.CreateService(ctx, svc); err != nil && !domain.IsKind(err, domain.KindConflict) {
			return false, fmt.Errorf("seed service: %w", err)
		}
	}
	for _, d := range doctors {
		u, err := accounts.CreateUser(ctx, d.email, DoctorPassword, d.name, "", domain.RoleProvider)
		if err != nil {
			return false, fmt.Errorf("seed %s: %w", d.name, err)
		}
		// Doctors have no phone here; their email is the clinic's own demo address.
		if err := st.MarkVerified(ctx, u.ID, domain.ChannelEmail, now); err != nil {
			return false, fmt.Errorf("seed %s: %w", d.name, err)
		}
		p := domain.Provider{ID: uuid.NewString(), Name: d.name, Specialty: d.specialty, TimeZone: d.zone, UserID: u.ID}
		if err := st.CreateProvider(ctx, p); err != nil {
			return false, fmt.Errorf("seed %s: %w", d.name, err)
		}
		sched := domain.Schedule{TimeZone: d.zone, Weekly: d.weekly}
		if d.closedInDays > 0 {
			loc, err := time.LoadLocation(d.zone)
			if err != nil {
				return false, err
			}
			// A working day, so that the closed day shows as a gap in availability.
			day := domain.DateOf(now.In(loc)).AddDays(d.closedInDays)
			for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
				day = day.AddDays(1)
			}
			sched.Exceptions = []domain.Exception{{Date: day, Closed: true}}
		}
		if err := st.ReplaceSchedule(ctx, p.ID, sched); err != nil {
			return false, fmt.Errorf("seed %s schedule: %w", d.name, err)
		}
	}
	return true, nil
}

// verifyDemoPatient marks the demo patient's email and phone verified, when they exist and are
// not yet, so that the demo patient can book at once and gets the messages, as the README's
// session shows.
func verifyDemoPatient(ctx context.Context, st Store, now time.Time) error {
	patient, err := st.GetUserByEmail(ctx, PatientEmail)
	if domain.IsKind(err, domain.KindNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("seed patient: %w", err)
	}
	if !patient.EmailVerified {
		if err := st.MarkVerified(ctx, patient.ID, domain.ChannelEmail, now); err != nil {
			return fmt.Errorf("seed patient: verify email: %w", err)
		}
	}
	if !patient.PhoneVerified && patient.Phone != "" {
		// Another account may have verified the demo number meanwhile; then the demo patient
		// still has the email.
		if err := st.MarkVerified(ctx, patient.ID, domain.ChannelSMS, now); err != nil && !domain.IsKind(err, domain.KindConflict) {
			return fmt.Errorf("seed patient: verify phone: %w", err)
		}
	}
	return nil
}

// Doctors lists the demo doctors' logins, for printing.
func Doctors() []string {
	out := make([]string, len(doctors))
	for i, d := range doctors {
		out[i] = d.email
	}
	return out
}
