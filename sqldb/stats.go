package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/hebaopay/hebao"
)

// statsLag is how far a transfer's time may trail its number's: the search for the
// first transfer of a window starts this much earlier, and the times decide.
const statsLag = 5 * time.Minute

// paymentMinutes sums a range of the transfers' primary key; the minute is the
// creation time (microseconds) divided down, the same integer division on both
// databases.
const paymentMinutes = `SELECT t.created_at / 60000000, COUNT(DISTINCT t.seq), SUM(p.amount)
FROM transfers t JOIN postings p ON p.transfer_seq = t.seq
WHERE t.seq >= $1 AND t.kind = 'payment' AND t.created_at >= $2 AND p.unit = 'CNY' AND p.amount > 0
GROUP BY t.created_at / 60000000
ORDER BY 1`

// PaymentMinutes implements hebao.Tx. Transfers have no index by time: the window's
// first transfer is found by TransferSeqAt's binary search, and the rest is a range
// of the primary key.
func (t *tx) PaymentMinutes(ctx context.Context, since time.Time) ([]hebao.PaymentMinute, error) {
	first, err := t.TransferSeqAt(ctx, since.Add(-statsLag))
	if err != nil {
		return nil, err
	}
	rs, err := t.query(paymentMinutes, first, since.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read payments: %w", err)
	}
	defer rs.Close()
	var out []hebao.PaymentMinute
	for rs.Next() {
		var minute int64
		var m hebao.PaymentMinute
		if err := rs.Scan(&minute, &m.Count, &m.Amount); err != nil {
			return nil, t.fail(fmt.Errorf("read payments: %w", err))
		}
		m.Start = time.Unix(minute*60, 0).UTC()
		out = append(out, m)
	}
	if err := rs.Err(); err != nil {
		return nil, t.fail(fmt.Errorf("read payments: %w", err))
	}
	return out, nil
}
