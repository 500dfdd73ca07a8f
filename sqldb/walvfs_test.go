package sqldb

import (
	"bytes"
	"fmt"
	"testing"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// fakeLog is the file under a wrapped log in these tests: it keeps its bytes in
// memory and records every call that reaches it. Its methods are plain Go functions
// wired as SQLite calls them, so the wrapper is exercised exactly as in production.
var fakeLog struct {
	data      []byte
	calls     []string
	failWrite bool
}

var fakeMethods = sqlite3.Tsqlite3_io_methods{FiVersion: 1}

func init() {
	fakeMethods.FxWrite = cFunc(func(tls *libc.TLS, f, buf uintptr, amt int32, off int64) int32 {
		fakeLog.calls = append(fakeLog.calls, fmt.Sprintf("write %d+%d", off, amt))
		if fakeLog.failWrite {
			return sqlite3.SQLITE_IOERR_WRITE
		}
		if end := int(off) + int(amt); end > len(fakeLog.data) {
			fakeLog.data = append(fakeLog.data, make([]byte, end-len(fakeLog.data))...)
		}
		copy(fakeLog.data[off:], unsafe.Slice((*byte)(ptr(buf)), amt))
		return sqlite3.SQLITE_OK
	})
	fakeMethods.FxRead = cFunc(func(tls *libc.TLS, f, buf uintptr, amt int32, off int64) int32 {
		fakeLog.calls = append(fakeLog.calls, fmt.Sprintf("read %d+%d", off, amt))
		dst := unsafe.Slice((*byte)(ptr(buf)), amt)
		n := 0
		if int(off) < len(fakeLog.data) {
			n = copy(dst, fakeLog.data[off:])
		}
		if n < int(amt) {
			clear(dst[n:])
			return sqlite3.SQLITE_IOERR_SHORT_READ
		}
		return sqlite3.SQLITE_OK
	})
	fakeMethods.FxSync = cFunc(func(tls *libc.TLS, f uintptr, flags int32) int32 {
		fakeLog.calls = append(fakeLog.calls, "sync")
		return sqlite3.SQLITE_OK
	})
	fakeMethods.FxTruncate = cFunc(func(tls *libc.TLS, f uintptr, size int64) int32 {
		fakeLog.calls = append(fakeLog.calls, fmt.Sprintf("truncate %d", size))
		if int(size) < len(fakeLog.data) {
			fakeLog.data = fakeLog.data[:size]
		}
		return sqlite3.SQLITE_OK
	})
	fakeMethods.FxFileSize = cFunc(func(tls *libc.TLS, f, pSize uintptr) int32 {
		fakeLog.calls = append(fakeLog.calls, "size")
		*(*int64)(ptr(pSize)) = int64(len(fakeLog.data))
		return sqlite3.SQLITE_OK
	})
	fakeMethods.FxClose = cFunc(func(tls *libc.TLS, f uintptr) int32 {
		fakeLog.calls = append(fakeLog.calls, "close")
		return sqlite3.SQLITE_OK
	})
}

// openFakeLog returns a wrapped log over a new, empty fakeLog.
func openFakeLog(t *testing.T) (*libc.TLS, uintptr) {
	t.Helper()
	if err := registerWALVFS(); err != nil {
		t.Fatal(err)
	}
	tls := libc.NewTLS()
	pFile := libc.Xmalloc(tls, uint64(walInnerOffset)+64)
	(*sqlite3.Tsqlite3_file)(ptr(pFile + walInnerOffset)).FpMethods = uintptr(unsafe.Pointer(&fakeMethods))
	fakeLog.data, fakeLog.calls, fakeLog.failWrite = nil, nil, false
	if rc := wrapWAL(tls, pFile); rc != sqlite3.SQLITE_OK {
		t.Fatalf("wrap: %d", rc)
	}
	t.Cleanup(func() {
		if (*walFileHeader)(ptr(pFile)).methods != 0 {
			walClose(tls, pFile)
		}
		libc.Xfree(tls, pFile)
		tls.Close()
	})
	return tls, pFile
}

// cbuf copies b to C memory, as SQLite hands buffers to a VFS.
func cbuf(t *testing.T, tls *libc.TLS, b []byte) uintptr {
	p := libc.Xmalloc(tls, uint64(len(b))+1)
	copy(unsafe.Slice((*byte)(ptr(p)), len(b)), b)
	t.Cleanup(func() { libc.Xfree(tls, p) })
	return p
}

func write(t *testing.T, tls *libc.TLS, pFile uintptr, off int64, b []byte) {
	t.Helper()
	if rc := walWrite(tls, pFile, cbuf(t, tls, b), int32(len(b)), off); rc != sqlite3.SQLITE_OK {
		t.Fatalf("write %d+%d: %d", off, len(b), rc)
	}
}

func takeCalls() []string {
	c := fakeLog.calls
	fakeLog.calls = nil
	return c
}

func wantCalls(t *testing.T, step string, want ...string) {
	t.Helper()
	if got := takeCalls(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: the file saw %v, want %v", step, got, want)
	}
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

// A commit's frames — a 24-byte header, then a page, again and again — reach the
// file as one write at the sync, before the sync.
func TestWALVFSGathersFramesUntilSync(t *testing.T) {
	tls, f := openFakeLog(t)
	want := pattern(32, 1)
	write(t, tls, f, 0, want)
	for i := range 3 {
		hdr, page := pattern(24, byte(10+i)), pattern(4096, byte(20+i))
		write(t, tls, f, int64(len(want)), hdr)
		write(t, tls, f, int64(len(want)+24), page)
		want = append(append(want, hdr...), page...)
	}
	wantCalls(t, "before the sync")
	if rc := walSync(tls, f, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("sync: %d", rc)
	}
	wantCalls(t, "at the sync", fmt.Sprintf("write 0+%d", len(want)), "sync")
	if !bytes.Equal(fakeLog.data, want) {
		t.Error("the file does not hold what was written")
	}
}

// A write that does not continue the gathered run, a read that overlaps it, a
// truncate, a size query and close each write the run out first, so the file sees
// writes in the order SQLite made them.
func TestWALVFSKeepsOrder(t *testing.T) {
	tls, f := openFakeLog(t)
	write(t, tls, f, 0, pattern(100, 1))
	write(t, tls, f, 40, pattern(10, 2)) // rewrites inside the run
	wantCalls(t, "an overwrite", "write 0+100")
	write(t, tls, f, 50, pattern(10, 3))
	wantCalls(t, "a write that continues the run")

	// A read outside the run is the file's own; one that overlaps it sees the run.
	buf := libc.Xmalloc(tls, 64)
	defer libc.Xfree(tls, buf)
	if rc := walRead(tls, f, buf, 10, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("read: %d", rc)
	}
	wantCalls(t, "a read before the run", "read 0+10")
	if rc := walRead(tls, f, buf, 20, 45); rc != sqlite3.SQLITE_OK {
		t.Fatalf("read: %d", rc)
	}
	wantCalls(t, "a read across the run", "write 40+20", "read 45+20")
	want := pattern(100, 1)
	copy(want[40:], pattern(10, 2))
	copy(want[50:], pattern(10, 3))
	if got := unsafe.Slice((*byte)(ptr(buf)), 20); !bytes.Equal(got, want[45:65]) {
		t.Errorf("read %v, want %v", got, want[45:65])
	}

	write(t, tls, f, 100, pattern(8, 4))
	if rc := walTruncate(tls, f, 104); rc != sqlite3.SQLITE_OK {
		t.Fatalf("truncate: %d", rc)
	}
	wantCalls(t, "truncate", "write 100+8", "truncate 104")
	write(t, tls, f, 104, pattern(8, 5))
	size := libc.Xmalloc(tls, 8)
	defer libc.Xfree(tls, size)
	if rc := walFileSize(tls, f, size); rc != sqlite3.SQLITE_OK || *(*int64)(ptr(size)) != 112 {
		t.Fatalf("size: %d, %d", rc, *(*int64)(ptr(size)))
	}
	wantCalls(t, "size", "write 104+8", "size")
	write(t, tls, f, 112, pattern(8, 6))
	if rc := walClose(tls, f); rc != sqlite3.SQLITE_OK {
		t.Fatalf("close: %d", rc)
	}
	wantCalls(t, "close", "write 112+8", "close")
}

// A long run goes to the file in pieces the unix VFS can take (it masks larger
// counts), and early once walGather bytes are waiting; a write larger than the
// buffer goes straight through, in pieces too.
func TestWALVFSLongRuns(t *testing.T) {
	tls, f := openFakeLog(t)
	page := pattern(4096, 9)
	var want []byte
	for len(want)+len(page) <= walGather {
		write(t, tls, f, int64(len(want)), page)
		want = append(want, page...)
	}
	wantCalls(t, "up to walGather")
	write(t, tls, f, int64(len(want)), page)
	var pieces []string
	for off := 0; off < walGather; off += walWriteMax {
		pieces = append(pieces, fmt.Sprintf("write %d+%d", off, walWriteMax))
	}
	wantCalls(t, "past walGather", pieces...)
	want = append(want, page...)
	huge := pattern(walGather+10, 3)
	write(t, tls, f, int64(len(want)), huge)
	pieces = []string{fmt.Sprintf("write %d+4096", walGather)}
	for off := 0; off < len(huge); off += walWriteMax {
		pieces = append(pieces, fmt.Sprintf("write %d+%d", len(want)+off, min(walWriteMax, len(huge)-off)))
	}
	wantCalls(t, "a write larger than the buffer", pieces...)
	want = append(want, huge...)
	if !bytes.Equal(fakeLog.data, want) {
		t.Error("the file does not hold what was written")
	}
}

// A write the file refuses when the run goes out fails the sync: SQLite then treats
// the commit as failed, as it would had the write failed at once.
func TestWALVFSWriteErrorFailsSync(t *testing.T) {
	tls, f := openFakeLog(t)
	write(t, tls, f, 0, pattern(100, 1))
	fakeLog.failWrite = true
	if rc := walSync(tls, f, 0); rc != sqlite3.SQLITE_IOERR_WRITE {
		t.Errorf("sync after a refused write: %d, want %d", rc, sqlite3.SQLITE_IOERR_WRITE)
	}
	wantCalls(t, "a refused write", "write 0+100")
	fakeLog.failWrite = false
	if rc := walSync(tls, f, 0); rc != sqlite3.SQLITE_OK {
		t.Errorf("next sync: %d", rc)
	}
	wantCalls(t, "the next sync", "sync")
}

// The gathering log is only safe on a connection that syncs the log at every commit:
// the write connection must open through walVFS with synchronous=FULL.
func TestWALVFSWriterSyncsEveryCommit(t *testing.T) {
	db := openTest(t, Config{DataDir: t.TempDir()})
	w := db.b.(*sqliteDB).w
	var sync int
	if err := w.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if sync != 2 {
		t.Errorf("the write connection runs synchronous=%d, want 2 (FULL)", sync)
	}
	walFilesMu.Lock()
	open := len(walFiles)
	walFilesMu.Unlock()
	if open == 0 {
		t.Error("no log is open through walVFS")
	}
}
