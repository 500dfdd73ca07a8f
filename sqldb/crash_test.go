package sqldb

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
)

// crashChildEnv tells the test binary it runs as TestCrashRecovery's child, and where
// the database is.
const crashChildEnv = "HEBAO_CRASH_CHILD_DIR"

// crashWorkers is how many goroutines of the child commit at once; each has at most
// one transfer committed but not yet reported when the child is killed.
const crashWorkers = 8

// TestCrashRecovery kills a process that is committing transfers, at a random moment,
// ten times over on the same SQLite database. After every crash the ledger verifies,
// every transfer the child was told had committed is there, and at most one transfer
// per worker is there that the child had not reported yet.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	r := newRand(seed)
	t.Logf("seed %d", seed)
	var committed, transfers int64
	for cycle := 0; cycle < 10; cycle++ {
		ids := runCrashChild(t, dir, time.Duration(50+r.IntN(351))*time.Millisecond)
		committed += int64(len(ids))

		db := openTest(t, Config{DataDir: dir})
		rep := mustVerify(t, db)
		for _, id := range ids {
			if n := rawInt(t, db, `SELECT COUNT(*) FROM transfers WHERE id = ?`, id); n != 1 {
				t.Errorf("cycle %d: transfer %s was reported committed, but the journal has %d of it", cycle, id, n)
			}
		}
		// The event of each transfer was written in the same transaction: all or neither.
		if n := rawInt(t, db, `SELECT COUNT(*) FROM transfers t WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = 'evt_' || t.id)`); n != 0 {
			t.Errorf("cycle %d: %d transfers without their event", cycle, n)
		}
		if n := rawInt(t, db, `SELECT COUNT(*) FROM outbox`); n != rep.Transfers {
			t.Errorf("cycle %d: %d events for %d transfers", cycle, n, rep.Transfers)
		}
		if extra := rep.Transfers - transfers - int64(len(ids)); extra < 0 || extra > crashWorkers {
			t.Errorf("cycle %d: %d transfers before, %d reported, %d now: %d unreported, want 0 to %d",
				cycle, transfers, len(ids), rep.Transfers, extra, crashWorkers)
		}
		transfers = rep.Transfers
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("%d transfers reported committed over 10 crashes, %d in the journal", committed, transfers)
}

// runCrashChild starts the child on dir, kills it with SIGKILL the given time after
// its first commit, and returns the ids of the transfers it reported committed.
func runCrashChild(t *testing.T, dir string, after time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 256)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, out)
	}()
	// stop kills the child, reads what it wrote before dying, and reaps it. It runs
	// at the latest when the test ends, so no child outlives a failed test.
	var (
		once   sync.Once
		waited error
		rest   []string
	)
	stop := func() {
		once.Do(func() {
			cmd.Process.Kill() // SIGKILL: no deferred function, no flush, no Close
			for l := range lines {
				rest = append(rest, l)
			}
			waited = cmd.Wait()
		})
	}
	t.Cleanup(stop)

	var ids []string
	take := func(l string) {
		id, ok := strings.CutPrefix(l, "committed ")
		switch {
		case ok && hebao.ValidID("tr", id):
			ids = append(ids, id)
		case strings.HasPrefix(l, "committed ") || strings.HasPrefix(l, "error "):
			t.Errorf("child: %s", l)
		}
	}
	early := func() {
		stop()
		t.Fatalf("the child exited before it was killed (%v); stdout:\n%s\nstderr:\n%s", waited, strings.Join(rest, "\n"), stderr.String())
	}
	start := time.NewTimer(60 * time.Second)
	defer start.Stop()
	for len(ids) == 0 {
		select {
		case l, ok := <-lines:
			if !ok {
				early()
			}
			take(l)
		case <-start.C:
			stop()
			t.Fatalf("the child committed nothing in 60s; stderr:\n%s", stderr.String())
		}
	}
	kill := time.NewTimer(after)
	defer kill.Stop()
	for running := true; running; {
		select {
		case l, ok := <-lines:
			if !ok {
				early()
			}
			take(l)
		case <-kill.C:
			running = false
		}
	}
	stop()
	for _, l := range rest {
		take(l)
	}
	if cmd.ProcessState.Exited() {
		t.Fatalf("the child exited by itself (%v) instead of being killed; stderr:\n%s", waited, stderr.String())
	}
	if strings.Contains(stderr.String(), "DATA RACE") {
		t.Errorf("the child found a data race:\n%s", stderr.String())
	}
	return ids
}

// TestCrashChild is the process TestCrashRecovery kills: crashWorkers goroutines post
// transfers between two accounts, each with its outbox event, and print the id of
// every transfer whose Transact returned nil. It stops by itself after 30 seconds.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("run by TestCrashRecovery")
	}
	ctx := context.Background()
	db := openTest(t, Config{DataDir: dir})
	src, dst := crashAccounts(t, db)
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...) // os.Stdout is unbuffered: one write per line
	}
	deadline := time.Now().Add(30 * time.Second)
	var wg sync.WaitGroup
	for w := 0; w < crashWorkers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := newRand(uint64(time.Now().UnixNano()) + uint64(w))
			for time.Now().Before(deadline) {
				id := hebao.NewID("tr")
				amount, back := 1+r.Int64N(100), r.IntN(3) == 0
				err := db.Transact(ctx, func(tx hebao.Tx) error {
					from, to := src, dst
					if back {
						as, err := tx.Accounts(ctx, dst)
						if err != nil {
							return err
						}
						if as[dst].Balance >= amount {
							from, to = dst, src
						}
					}
					tr := &hebao.Transfer{ID: id, Kind: hebao.TransferTest, Ref: fmt.Sprint("worker-", w), Postings: hebao.Move(from, to, hebao.CNY, amount)}
					if err := tx.Post(ctx, tr); err != nil {
						return err
					}
					return tx.Emit(ctx, hebao.Event{ID: "evt_" + id, Kind: "test.transfer"})
				})
				if err != nil {
					say("error %s: %v", id, err)
					t.Errorf("transfer %s: %v", id, err)
					return
				}
				say("committed %s", id)
			}
		}(w)
	}
	wg.Wait()
}

// crashAccounts returns the child's two accounts, creating them on the first run.
// They are found by owner, so a crash between creating and using them loses nothing.
func crashAccounts(t *testing.T, db *DB) (src, dst hebao.AccountID) {
	t.Helper()
	ctx := context.Background()
	find := func() {
		err := db.b.snapshot(ctx, func(j hebao.Journal) error {
			return j.EachAccount(ctx, func(a hebao.Account) error {
				switch a.Owner {
				case "crash-src":
					src = a.ID
				case "crash-dst":
					dst = a.ID
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if find(); src != 0 && dst != 0 {
		return src, dst
	}
	err := db.Transact(ctx, func(tx hebao.Tx) error {
		if _, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY, Owner: "crash-src", MayGoNegative: true}); err != nil {
			return err
		}
		_, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY, Owner: "crash-dst"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if find(); src == 0 || dst == 0 {
		t.Fatalf("accounts not found after creating them: %d %d", src, dst)
	}
	return src, dst
}
