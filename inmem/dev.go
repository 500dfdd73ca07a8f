package inmem

import (
	"context"
	"slices"

	"github.com/hebaopay/hebao"
)

// AddDevSMS implements hebao.Tx.
func (t *tx) AddDevSMS(_ context.Context, m hebao.SMSMessage, keep int) error {
	if err := t.write(); err != nil {
		return err
	}
	t.d.devSMS = append(t.d.devSMS, m)
	n := 0
	for i := len(t.d.devSMS) - 1; i >= 0; i-- {
		if t.d.devSMS[i].Phone != m.Phone {
			continue
		}
		if n++; n > keep {
			t.d.devSMS = slices.Delete(t.d.devSMS, i, i+1)
		}
	}
	return nil
}

// DevSMS implements hebao.Tx.
func (t *tx) DevSMS(_ context.Context, phone string) ([]hebao.SMSMessage, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.SMSMessage
	for i := len(t.d.devSMS) - 1; i >= 0; i-- {
		if t.d.devSMS[i].Phone == phone {
			out = append(out, t.d.devSMS[i])
		}
	}
	return out, nil
}

// DevSeed implements hebao.Tx.
func (t *tx) DevSeed(context.Context) ([]byte, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	if t.d.devSeed == nil {
		return nil, notFound("development seed")
	}
	return slices.Clone(t.d.devSeed), nil
}

// SaveDevSeed implements hebao.Tx.
func (t *tx) SaveDevSeed(_ context.Context, seed []byte) error {
	if err := t.write(); err != nil {
		return err
	}
	t.d.devSeed = slices.Clone(seed)
	return nil
}
