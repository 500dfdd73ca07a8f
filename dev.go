package hebao

import "context"

// DevTx is the part of Tx that development mode (`hebao serve --dev`) keeps in the
// database rather than in a process, so that several development servers can share
// one database: the SMS the development gateway kept instead of sending, and what
// --dev seeded (its staff passwords, demo merchant key and campaign). None of it is
// used outside development mode.
type DevTx interface {
	// AddDevSMS keeps m, and of m.Phone's messages only the newest keep.
	AddDevSMS(ctx context.Context, m SMSMessage, keep int) error
	// DevSMS returns the messages kept for phone, newest first.
	DevSMS(ctx context.Context, phone string) ([]SMSMessage, error)
	// DevSeed returns what --dev seeded, as it was saved; not_found if nothing yet.
	DevSeed(ctx context.Context) ([]byte, error)
	// SaveDevSeed stores what --dev seeded, over what was there.
	SaveDevSeed(ctx context.Context, seed []byte) error
}
