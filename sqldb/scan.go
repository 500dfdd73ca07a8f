package sqldb

import (
	"fmt"
	"time"

	"github.com/hebaopay/hebao"
)

// journalQuery reads every transfer with its postings, in chain order. The LEFT JOIN
// keeps a transfer whose postings were deleted, so verify sees it.
const journalQuery = `SELECT t.seq, t.id, t.kind, t.ref, t.created_at, t.prev_hash, t.hash, p.idx, p.account_id, p.unit, p.amount
FROM transfers t LEFT JOIN postings p ON p.transfer_seq = t.seq
ORDER BY t.seq, p.idx`

type scanner interface{ Scan(dest ...any) error }

// rows is what both drivers' result sets can do.
type rows interface {
	scanner
	Next() bool
	Err() error
}

func scanHead(row scanner) (hebao.ChainHead, [32]byte, error) {
	var (
		h         hebao.ChainHead
		hash, mac []byte
		m         [32]byte
	)
	if err := row.Scan(&h.Seq, &hash, &mac); err != nil {
		return h, m, fmt.Errorf("read chain head: %w", err)
	}
	copy(h.Hash[:], hash)
	copy(m[:], mac)
	return h, m, nil
}

func scanAccount(row scanner) (hebao.Account, error) {
	var (
		a       hebao.Account
		created int64
		kind    string
		unit    string
	)
	if err := row.Scan(&a.ID, &kind, &unit, &a.Owner, &a.MayGoNegative, &a.Balance, &created); err != nil {
		return a, err
	}
	a.Kind, a.Unit, a.CreatedAt = hebao.AccountKind(kind), hebao.Unit(unit), time.UnixMicro(created).UTC()
	return a, nil
}

func eachAccountRow(rs rows, fn func(hebao.Account) error) error {
	for rs.Next() {
		a, err := scanAccount(rs)
		if err != nil {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	return rs.Err()
}

// eachTransferRow groups the rows of journalQuery into transfers. Postings are placed
// by their stored index: a gap or an index out of place leaves an empty posting, so a
// tampered index changes the transfer's hash and verify reports it.
func eachTransferRow(rs rows, fn func(*hebao.Transfer) error) error {
	var (
		cur    *hebao.Transfer
		byIdx  map[int64]hebao.Posting
		maxIdx int64
		emit   = func() error {
			if cur == nil {
				return nil
			}
			if len(byIdx) > 0 {
				if maxIdx >= 4*hebao.MaxPostings {
					maxIdx = 4 * hebao.MaxPostings // a wild index: enough to break the hash
				}
				cur.Postings = make([]hebao.Posting, maxIdx+1)
				for i, p := range byIdx {
					if i >= 0 && i <= maxIdx {
						cur.Postings[i] = p
					}
				}
			}
			return fn(cur)
		}
	)
	for rs.Next() {
		var (
			seq, created         int64
			id, kind, ref        string
			prev, hash           []byte
			idx, account, amount *int64
			unit                 *string
		)
		if err := rs.Scan(&seq, &id, &kind, &ref, &created, &prev, &hash, &idx, &account, &unit, &amount); err != nil {
			return err
		}
		if cur == nil || cur.Seq != seq {
			if err := emit(); err != nil {
				return err
			}
			cur = &hebao.Transfer{Seq: seq, ID: id, Kind: hebao.TransferKind(kind), Ref: ref, CreatedAt: time.UnixMicro(created).UTC()}
			copy(cur.PrevHash[:], prev)
			copy(cur.Hash[:], hash)
			byIdx, maxIdx = map[int64]hebao.Posting{}, -1
		}
		if idx != nil {
			byIdx[*idx] = hebao.Posting{Account: hebao.AccountID(*account), Unit: hebao.Unit(*unit), Amount: *amount}
			maxIdx = max(maxIdx, *idx)
		}
	}
	if err := rs.Err(); err != nil {
		return err
	}
	return emit()
}

func scanBalances(rs rows) (map[hebao.AccountID]int64, error) {
	out := map[hebao.AccountID]int64{}
	for rs.Next() {
		var id, bal int64
		if err := rs.Scan(&id, &bal); err != nil {
			return nil, err
		}
		out[hebao.AccountID(id)] = bal
	}
	return out, rs.Err()
}
