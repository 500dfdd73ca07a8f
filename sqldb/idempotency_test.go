package sqldb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/hebaopay/hebao"
)

// transferOnce is a minimal money-moving use case guarded by an idempotency key, the
// way the API's handlers use hebao.Once.
func transferOnce(ctx context.Context, db *DB, key string, from, to hebao.AccountID, amount int64) (hebao.Reply, error) {
	body, _ := json.Marshal(map[string]any{"from": from, "to": to, "amount": amount})
	k := hebao.NewIdempotencyKey("cus_test POST /v1/transfers", key, body)
	return hebao.Once(ctx, db, k, func(tx hebao.Tx) (hebao.Reply, error) {
		tr := &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferP2P, Ref: key, Postings: hebao.Move(from, to, hebao.CNY, amount)}
		if err := tx.Post(ctx, tr); err != nil {
			return hebao.Reply{}, err
		}
		if err := tx.Emit(ctx, hebao.Event{Kind: "transfer.succeeded", Payload: []byte(`{"ref":"` + key + `"}`)}); err != nil {
			return hebao.Reply{}, err
		}
		out, _ := json.Marshal(map[string]any{"id": tr.ID, "amount": amount, "status": "succeeded"})
		return hebao.Reply{Status: 201, Body: out}, nil
	})
}

// TestIdempotencyStorm sends 2,000 requests 5 times each, all at once: exactly one
// effect per key, and all five callers get the same reply byte for byte.
func TestIdempotencyStorm(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		_, ids := makeAccounts(t, db, 2, 1_000_000)
		ctx := context.Background()
		const keys, sends = 2000, 5
		replies := make([][sends]hebao.Reply, keys)
		var wg sync.WaitGroup
		jobs := make(chan [2]int)
		for w := 0; w < 64; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range jobs {
					k, s := j[0], j[1]
					r, err := transferOnce(ctx, db, fmt.Sprintf("key-%04d", k), ids[0], ids[1], int64(1+k%7))
					if err != nil {
						t.Errorf("key %d send %d: %v", k, s, err)
					}
					replies[k][s] = r
				}
			}()
		}
		// The five sends of a key go out back to back, so they race each other and
		// often land in the same batch.
		for k := 0; k < keys; k++ {
			for s := 0; s < sends; s++ {
				jobs <- [2]int{k, s}
			}
		}
		close(jobs)
		wg.Wait()

		var total int64
		for k := 0; k < keys; k++ {
			for s := 1; s < sends; s++ {
				if replies[k][s].Status != replies[k][0].Status || !bytes.Equal(replies[k][s].Body, replies[k][0].Body) {
					t.Fatalf("key %d: send %d got %d %s, send 0 got %d %s", k, s, replies[k][s].Status, replies[k][s].Body, replies[k][0].Status, replies[k][0].Body)
				}
			}
			total += int64(1 + k%7)
		}
		if n := rawInt(t, db, `SELECT COUNT(*) FROM transfers WHERE kind = 'p2p'`); n != keys {
			t.Errorf("%d p2p transfers, want exactly %d", n, keys)
		}
		if n := rawInt(t, db, `SELECT COUNT(DISTINCT ref) FROM transfers WHERE kind = 'p2p'`); n != keys {
			t.Errorf("%d distinct refs, want %d", n, keys)
		}
		if n := countOutbox(t, db); n != keys {
			t.Errorf("%d outbox events, want %d", n, keys)
		}
		bal, _ := db.Balances(ctx, ids...)
		if bal[ids[1]] != 1_000_000+total {
			t.Errorf("payee balance %d, want %d", bal[ids[1]], 1_000_000+total)
		}
		mustVerify(t, db)

		// The same key with a different body is refused and changes nothing.
		_, err := transferOnce(ctx, db, "key-0001", ids[0], ids[1], 999)
		if !errors.Is(err, hebao.ErrIdempotencyKeyReused) {
			t.Errorf("reused key with another body: err = %v, want idempotency_key_reused", err)
		}
		// Another principal's scope does not collide with these keys.
		k := hebao.NewIdempotencyKey("cus_other POST /v1/transfers", "key-0001", nil)
		if _, err := hebao.Once(ctx, db, k, func(tx hebao.Tx) (hebao.Reply, error) { return hebao.Reply{Status: 200, Body: []byte("x")}, nil }); err != nil {
			t.Errorf("same key in another scope: %v", err)
		}
	})
}

// TestFailedRequestDoesNotClaimKey: a request refused by a business rule leaves the key
// free, so the client can retry it once the cause is fixed.
func TestFailedRequestDoesNotClaimKey(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		src, ids := makeAccounts(t, db, 2, 0)
		ctx := context.Background()
		if _, err := transferOnce(ctx, db, "k", ids[0], ids[1], 50); !errors.Is(err, hebao.ErrInsufficientFunds) {
			t.Fatalf("err = %v, want insufficient_funds", err)
		}
		post(t, db, src, ids[0], 50)
		r, err := transferOnce(ctx, db, "k", ids[0], ids[1], 50)
		if err != nil || r.Status != 201 {
			t.Fatalf("retry after top-up: %v %v", r, err)
		}
	})
}
