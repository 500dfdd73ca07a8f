package inmem

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/hebaopay/hebao"
)

func conflict(what string) error { return hebao.Errorf(hebao.CodeConflict, "%s already exists", what) }

func notFound(what string) error { return hebao.Errorf(hebao.CodeNotFound, "no such %s", what) }

func (t *tx) CreateCustomer(_ context.Context, c hebao.Customer) error {
	if err := t.write(); err != nil {
		return err
	}
	for _, o := range t.d.customers {
		if o.Phone == c.Phone || o.ID == c.ID {
			return conflict("customer")
		}
	}
	t.d.customers[c.ID] = c
	return nil
}

func (t *tx) CustomerByPhone(_ context.Context, phone string) (hebao.Customer, error) {
	if err := t.read(); err != nil {
		return hebao.Customer{}, err
	}
	for _, c := range t.d.customers {
		if c.Phone == phone {
			return c, nil
		}
	}
	return hebao.Customer{}, notFound("customer")
}

func (t *tx) CreateWallet(_ context.Context, w hebao.Wallet) error {
	if err := t.write(); err != nil {
		return err
	}
	for _, o := range t.d.wallets {
		if o.CustomerID == w.CustomerID || o.ID == w.ID {
			return conflict("wallet")
		}
	}
	t.d.wallets[w.ID] = w
	return nil
}

func (t *tx) WalletByCustomer(_ context.Context, customerID string) (hebao.Wallet, error) {
	if err := t.read(); err != nil {
		return hebao.Wallet{}, err
	}
	for _, w := range t.d.wallets {
		if w.CustomerID == customerID {
			return w, nil
		}
	}
	return hebao.Wallet{}, notFound("wallet")
}

func (t *tx) AddDevice(_ context.Context, d hebao.Device) error {
	if err := t.write(); err != nil {
		return err
	}
	k := [2]string{d.CustomerID, d.ID}
	if _, ok := t.d.devices[k]; !ok {
		t.d.devices[k] = d
	}
	return nil
}

func (t *tx) KnownDevice(_ context.Context, customerID, deviceID string) (bool, error) {
	if err := t.read(); err != nil {
		return false, err
	}
	_, ok := t.d.devices[[2]string{customerID, deviceID}]
	return ok, nil
}

func (t *tx) CreateSession(_ context.Context, s hebao.Session) error {
	if err := t.write(); err != nil {
		return err
	}
	if _, ok := t.d.sessions[s.ID]; ok {
		return conflict("session")
	}
	t.d.sessions[s.ID] = s
	return nil
}

func (t *tx) SessionByToken(_ context.Context, hash [32]byte) (hebao.Session, error) {
	if err := t.read(); err != nil {
		return hebao.Session{}, err
	}
	for _, s := range t.d.sessions {
		if s.TokenHash == hash {
			return s, nil
		}
	}
	return hebao.Session{}, notFound("session")
}

func (t *tx) TouchSession(_ context.Context, id string, at time.Time) error {
	if err := t.write(); err != nil {
		return err
	}
	if s, ok := t.d.sessions[id]; ok && s.LastUsedAt.Before(at) {
		s.LastUsedAt = at
		t.d.sessions[id] = s
	}
	return nil
}

func (t *tx) DeleteSession(_ context.Context, id string) (bool, error) {
	if err := t.write(); err != nil {
		return false, err
	}
	_, ok := t.d.sessions[id]
	delete(t.d.sessions, id)
	return ok, nil
}

func (t *tx) DeleteSessions(_ context.Context, customerID string, idleBefore time.Time) (int, error) {
	if err := t.write(); err != nil {
		return 0, err
	}
	n := 0
	maps.DeleteFunc(t.d.sessions, func(_ string, s hebao.Session) bool {
		del := s.CustomerID == customerID && (idleBefore.IsZero() || s.LastUsedAt.Before(idleBefore))
		if del {
			n++
		}
		return del
	})
	return n, nil
}

func (t *tx) LoginFailures(_ context.Context, subject string, since time.Time) ([]time.Time, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []time.Time
	for _, f := range t.d.failures {
		if f.subject == subject && !f.at.Before(since) {
			out = append(out, f.at)
		}
	}
	slices.SortStableFunc(out, time.Time.Compare)
	return out, nil
}

func (t *tx) AddLoginFailure(_ context.Context, subject string, at time.Time) error {
	if err := t.write(); err != nil {
		return err
	}
	t.d.failures = append(t.d.failures, failure{subject, at})
	return nil
}

func (t *tx) DeleteLoginFailures(_ context.Context, subject string, before time.Time) error {
	if err := t.write(); err != nil {
		return err
	}
	t.d.failures = slices.DeleteFunc(t.d.failures, func(f failure) bool {
		return f.subject == subject && (before.IsZero() || f.at.Before(before))
	})
	return nil
}

func (t *tx) CreateStaff(_ context.Context, s hebao.Staff) error {
	if err := t.write(); err != nil {
		return err
	}
	for _, o := range t.d.staff {
		if o.Username == s.Username || o.ID == s.ID {
			return conflict("staff account")
		}
	}
	t.d.staff[s.ID] = s
	return nil
}

func (t *tx) StaffByUsername(_ context.Context, username string) (hebao.Staff, error) {
	if err := t.read(); err != nil {
		return hebao.Staff{}, err
	}
	for _, s := range t.d.staff {
		if s.Username == username {
			return s, nil
		}
	}
	return hebao.Staff{}, notFound("staff account")
}

func (t *tx) StaffByID(_ context.Context, id string) (hebao.Staff, error) {
	if err := t.read(); err != nil {
		return hebao.Staff{}, err
	}
	if s, ok := t.d.staff[id]; ok {
		return s, nil
	}
	return hebao.Staff{}, notFound("staff account")
}

func (t *tx) CreateStaffSession(_ context.Context, s hebao.StaffSession) error {
	if err := t.write(); err != nil {
		return err
	}
	t.d.staffSessions[s.ID] = s
	return nil
}

func (t *tx) StaffSessionByToken(_ context.Context, hash [32]byte) (hebao.StaffSession, error) {
	if err := t.read(); err != nil {
		return hebao.StaffSession{}, err
	}
	for _, s := range t.d.staffSessions {
		if s.TokenHash == hash {
			return s, nil
		}
	}
	return hebao.StaffSession{}, notFound("staff session")
}

func (t *tx) TouchStaffSession(_ context.Context, id string, at time.Time) error {
	if err := t.write(); err != nil {
		return err
	}
	if s, ok := t.d.staffSessions[id]; ok && s.LastUsedAt.Before(at) {
		s.LastUsedAt = at
		t.d.staffSessions[id] = s
	}
	return nil
}

func (t *tx) DeleteStaffSession(_ context.Context, id string) (bool, error) {
	if err := t.write(); err != nil {
		return false, err
	}
	_, ok := t.d.staffSessions[id]
	delete(t.d.staffSessions, id)
	return ok, nil
}

func (t *tx) DeleteStaffSessions(_ context.Context, staffID string, idleBefore time.Time) (int, error) {
	if err := t.write(); err != nil {
		return 0, err
	}
	n := 0
	maps.DeleteFunc(t.d.staffSessions, func(_ string, s hebao.StaffSession) bool {
		del := s.StaffID == staffID && (idleBefore.IsZero() || s.LastUsedAt.Before(idleBefore))
		if del {
			n++
		}
		return del
	})
	return n, nil
}

func (t *tx) AddAudit(_ context.Context, r hebao.AuditRecord) error {
	if err := t.write(); err != nil {
		return err
	}
	r.Seq = int64(len(t.d.audit) + 1)
	r.Detail = maps.Clone(r.Detail)
	t.d.audit = append(t.d.audit, r)
	return nil
}

func (t *tx) AuditLog(_ context.Context, before int64, limit int) ([]hebao.AuditRecord, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.AuditRecord
	for _, r := range slices.Backward(t.d.audit) {
		if len(out) == limit {
			break
		}
		if before == 0 || r.Seq < before {
			out = append(out, r)
		}
	}
	return out, nil
}

// Audit returns every audit record, oldest first: tests look at what was recorded.
func (s *Store) Audit() []hebao.AuditRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d.audit)
}

// LoginFailures returns how many failed sign-ins are kept for subject.
func (s *Store) LoginFailures(subject string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.d.failures {
		if f.subject == subject {
			n++
		}
	}
	return n
}
