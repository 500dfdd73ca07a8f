package hebao_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hebaopay/hebao"
)

// canonical is the content of a transfer as the encoding keeps it.
type canonical struct {
	Seq      int64
	ID       string
	Kind     string
	Ref      string
	Micros   int64
	Postings []hebao.Posting
}

func canonicalOf(t *hebao.Transfer) canonical {
	c := canonical{Seq: t.Seq, ID: t.ID, Kind: string(t.Kind), Ref: t.Ref, Micros: t.CreatedAt.UnixMicro()}
	c.Postings = slices.Clone(t.Postings)
	return c
}

// decodeCanonical parses an encoding back into its fields, following the doc comment.
// That it recovers every field of every transfer is what makes the encoding injective.
func decodeCanonical(b []byte) (canonical, error) {
	var c canonical
	errShort := errors.New("short encoding")
	take := func(n int) ([]byte, error) {
		if n < 0 || len(b) < n {
			return nil, errShort
		}
		out := b[:n]
		b = b[n:]
		return out, nil
	}
	u64 := func() (uint64, error) {
		x, err := take(8)
		if err != nil {
			return 0, err
		}
		return binary.BigEndian.Uint64(x), nil
	}
	u32 := func() (uint32, error) {
		x, err := take(4)
		if err != nil {
			return 0, err
		}
		return binary.BigEndian.Uint32(x), nil
	}
	str := func() (string, error) {
		n, err := u32()
		if err != nil {
			return "", err
		}
		x, err := take(int(n))
		return string(x), err
	}
	magic, err := take(17)
	if err != nil || string(magic) != "hebao.transfer.v1" {
		return c, fmt.Errorf("bad magic %q", magic)
	}
	seq, err := u64()
	if err != nil {
		return c, err
	}
	c.Seq = int64(seq)
	if c.ID, err = str(); err != nil {
		return c, err
	}
	if c.Kind, err = str(); err != nil {
		return c, err
	}
	if c.Ref, err = str(); err != nil {
		return c, err
	}
	us, err := u64()
	if err != nil {
		return c, err
	}
	c.Micros = int64(us)
	n, err := u32()
	if err != nil {
		return c, err
	}
	for range n {
		acct, err := u64()
		if err != nil {
			return c, err
		}
		unit, err := str()
		if err != nil {
			return c, err
		}
		amt, err := u64()
		if err != nil {
			return c, err
		}
		c.Postings = append(c.Postings, hebao.Posting{Account: hebao.AccountID(acct), Unit: hebao.Unit(unit), Amount: int64(amt)})
	}
	if len(b) != 0 {
		return c, fmt.Errorf("%d bytes left over", len(b))
	}
	return c, nil
}

// byteReader hands out fuzz bytes, and zeros once they run out.
type byteReader struct{ b []byte }

func (r *byteReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *byteReader) bytes(n int) []byte {
	n = min(n, len(r.b))
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *byteReader) int64() int64 {
	var x [8]byte
	copy(x[:], r.bytes(8))
	return int64(binary.BigEndian.Uint64(x[:]))
}

// fuzzPostings decodes up to 16 postings: account, unit and amount each from a few
// bytes. Units are mostly real ones, sometimes arbitrary strings.
func fuzzPostings(b []byte) []hebao.Posting {
	r := &byteReader{b}
	var ps []hebao.Posting
	for len(r.b) > 0 && len(ps) < 16 {
		p := hebao.Posting{Account: hebao.AccountID(int8(r.byte()))}
		switch sel := r.byte(); sel % 4 {
		case 0:
			p.Unit = hebao.CNY
		case 1:
			p.Unit = hebao.POINT
		case 2:
			p.Unit = ""
		default:
			p.Unit = hebao.Unit(r.bytes(int(sel>>2) % 8))
		}
		switch sel := r.byte(); sel % 3 {
		case 0:
			p.Amount = int64(int8(r.byte()))
		case 1:
			p.Amount = int64(int16(r.byte())<<8 | int16(r.byte()))
		default:
			p.Amount = r.int64()
		}
		ps = append(ps, p)
	}
	return ps
}

// moveBytes moves the last k bytes of a to the front of b: "ab"+"c" → "a"+"bc".
func moveBytes(a, b string, k int) (string, string) {
	k = k % (len(a) + 1)
	return a[:len(a)-k], a[len(a)-k:] + b
}

// variant derives a second transfer from t, chosen by op: usually a small edit that
// keeps the total bytes the same, the edits that would collide in a careless encoding.
func variant(t *hebao.Transfer, op byte, arg []byte) *hebao.Transfer {
	v := *t
	v.Postings = slices.Clone(t.Postings)
	r := &byteReader{arg}
	k := int(r.byte())
	switch op % 12 {
	case 0: // the same transfer
	case 1:
		id, kind := moveBytes(v.ID, string(v.Kind), k)
		v.ID, v.Kind = id, hebao.TransferKind(kind)
	case 2:
		kind, ref := moveBytes(string(v.Kind), v.Ref, k)
		v.Kind, v.Ref = hebao.TransferKind(kind), ref
	case 3:
		v.ID, v.Ref = moveBytes(v.ID, v.Ref, k)
	case 4:
		v.Seq ^= r.int64()
	case 5:
		v.CreatedAt = v.CreatedAt.Add(time.Duration(r.int64()))
	case 6:
		if n := len(v.Postings); n > 0 {
			i, j := k%n, int(r.byte())%n
			v.Postings[i], v.Postings[j] = v.Postings[j], v.Postings[i]
		}
	case 7:
		if n := len(v.Postings); n > 1 {
			i := k % (n - 1)
			a, b := moveBytes(string(v.Postings[i].Unit), string(v.Postings[i+1].Unit), int(r.byte()))
			v.Postings[i].Unit, v.Postings[i+1].Unit = hebao.Unit(a), hebao.Unit(b)
		}
	case 8:
		if n := len(v.Postings); n > 0 {
			v.Postings = v.Postings[:n-1]
		}
	case 9:
		v.Postings = append(v.Postings, fuzzPostings(arg)...)
	case 10:
		if n := len(v.Postings); n > 0 {
			p := &v.Postings[k%n]
			p.Account ^= hebao.AccountID(r.int64())
			p.Amount ^= r.int64()
		}
	case 11: // a transfer of its own
		v.Seq = r.int64()
		v.ID = string(r.bytes(int(r.byte()) % 16))
		v.Kind = hebao.TransferKind(r.bytes(int(r.byte()) % 16))
		v.Ref = string(r.bytes(int(r.byte()) % 16))
		v.CreatedAt = time.UnixMicro(r.int64())
		v.Postings = fuzzPostings(r.b)
	}
	return &v
}

func FuzzCanonicalEncoding(f *testing.F) {
	g := goldenTransfer()
	var gp []byte
	for _, p := range g.Postings {
		gp = append(gp, byte(p.Account), map[hebao.Unit]byte{hebao.CNY: 0, hebao.POINT: 1}[p.Unit], 2)
		gp = binary.BigEndian.AppendUint64(gp, uint64(p.Amount))
	}
	for op := range byte(12) {
		f.Add(g.Seq, g.ID, string(g.Kind), g.Ref, g.CreatedAt.UnixMicro(), gp, op, []byte{3, 1, 0, 0, 0, 0, 0, 0, 0, 1})
	}
	f.Add(int64(0), "", "", "", int64(0), []byte(nil), byte(1), []byte{0})
	f.Add(int64(-1), "ab", "c", "", int64(-1), []byte{1, 3 | 1<<2, 'X', 0, 5}, byte(1), []byte{1})
	f.Fuzz(func(t *testing.T, seq int64, id, kind, ref string, micros int64, posts []byte, op byte, arg []byte) {
		t1 := &hebao.Transfer{Seq: seq, ID: id, Kind: hebao.TransferKind(kind), Ref: ref, CreatedAt: time.UnixMicro(micros), Postings: fuzzPostings(posts)}
		t2 := variant(t1, op, arg)
		e1, e2 := t1.CanonicalEncoding(), t2.CanonicalEncoding()

		for _, tr := range []*hebao.Transfer{t1, t2} {
			got, err := decodeCanonical(tr.CanonicalEncoding())
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if diff := cmp.Diff(canonicalOf(tr), got, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("the encoding does not give back %v (-want +got):\n%s", tr, diff)
			}
		}

		same := cmp.Equal(canonicalOf(t1), canonicalOf(t2), cmpopts.EquateEmpty())
		if bytes.Equal(e1, e2) != same {
			t.Fatalf("fields equal: %v, encodings equal: %v\n%v\n%v", same, !same, t1, t2)
		}
		if same != (t1.ChainHash([32]byte{}) == t2.ChainHash([32]byte{})) {
			t.Fatalf("fields equal: %v, but the hashes disagree\n%v\n%v", same, t1, t2)
		}
	})
}
