package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/hebaopay/hebao"
)

// JournalName is the journal's file name inside the directory given to Open.
const JournalName = "sandbox-bank.jsonl"

// record is one line of the journal: the verdict on one reference. Applied and refused
// orders carry the operation, the masked card, the card's key and the amount;
// a cancelled reference carries only Op "cancel". The full card number is never here.
type record struct {
	Ref     string           `json:"ref"`
	Op      string           `json:"op"` // debit, credit or cancel
	Status  hebao.BankStatus `json:"status"`
	Code    string           `json:"code,omitempty"`
	Card    string           `json:"card,omitempty"`        // masked, for people reading the file
	CardKey string           `json:"card_sha256,omitempty"` // hex SHA-256 of the digits
	Amount  int64            `json:"amount,omitempty"`
	Time    time.Time        `json:"time,omitzero"`
}

// valid reports whether r is a record decide could have written.
func (r record) valid() bool {
	if r.Ref == "" {
		return false
	}
	switch r.Op {
	case opCancel:
		return r.Status == hebao.BankCancelled
	case opDebit, opCredit:
		return (r.Status == hebao.BankSucceeded || r.Status == hebao.BankRefused) &&
			r.CardKey != "" && r.Amount > 0
	}
	return false
}

// journal is the append-only JSON-lines file of a persistent sandbox bank.
type journal struct {
	f    *os.File
	size int64 // bytes of whole records; a failed append is cut back to here
}

// openJournal opens (or creates) the journal in dir and returns its records. A torn
// last line is cut off so the next append starts on a line of its own.
func openJournal(dir string) (*journal, []record, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("sandbox: open journal: %w", err)
	}
	path := filepath.Join(dir, JournalName)
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("sandbox: open journal: %w", err)
	}
	j := &journal{f: f}
	recs, err := j.load()
	if err == nil && created {
		err = syncDir(dir)
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("sandbox: open journal %s: %w", path, err)
	}
	return j, recs, nil
}

// load reads every record and cuts off a torn last line.
func (j *journal) load() ([]record, error) {
	data, err := io.ReadAll(j.f)
	if err != nil {
		return nil, err
	}
	var recs []record
	var good int64 // end of the last whole record
	for line := 1; len(data) > 0; line++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break // no newline: an append that never finished
		}
		var r record
		if err := json.Unmarshal(data[:i], &r); err != nil || !r.valid() {
			if i+1 == len(data) {
				break // a garbled last line: torn as well
			}
			return nil, fmt.Errorf("line %d is not a journal record", line)
		}
		recs = append(recs, r)
		good += int64(i + 1)
		data = data[i+1:]
	}
	if len(data) > 0 {
		if err := j.f.Truncate(good); err != nil {
			return nil, err
		}
		if err := j.f.Sync(); err != nil {
			return nil, err
		}
	}
	j.size = good
	return recs, nil
}

// append writes r as one line and syncs it to disk before returning, so an answer
// the bank gave is never lost in a crash.
func (j *journal) append(r record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("sandbox: journal: %w", err)
	}
	line = append(line, '\n')
	n, err := j.f.Write(line)
	if err == nil {
		err = j.f.Sync()
	}
	if err != nil {
		// Cut a partial line back so the next record starts cleanly; if even that
		// fails, Open will treat the line as torn.
		_ = j.f.Truncate(j.size)
		return fmt.Errorf("sandbox: journal: %w", err)
	}
	j.size += int64(n)
	return nil
}

func (j *journal) close() error {
	return j.f.Close()
}

// syncDir makes a newly created journal's directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
