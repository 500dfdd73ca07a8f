package sqldb

import (
	"fmt"
	"sync"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// The write connection opens the database through walVFS, SQLite's own unix VFS with
// one change: the writes SQLite makes to the write-ahead log are gathered in memory
// and handed to the kernel as one write when SQLite syncs the log, instead of two
// system calls per page (a 24-byte frame header, then the page). Under group commit
// a commit appends a few hundred pages, and on a virtual machine those system calls
// were a quarter of the committer's time.
//
// Why this keeps SQLite's guarantees:
//   - The writer connection runs with synchronous=FULL, so every commit syncs the log
//     before it publishes the new frames in the shared WAL index. Gathered frames are
//     written out at that sync, so no other connection can be told about a frame the
//     file does not hold yet, and a commit is durable exactly when it was before.
//   - Writes reach the file in the order SQLite made them: a write that does not
//     extend the gathered run, a read that overlaps it, a truncate, a size query, a
//     file control and close all write the run out first.
//   - A crash loses only what was never synced, which SQLite already treats as
//     lost: WAL frames after the last synced commit frame are ignored by recovery.
//
// Only the log is wrapped; the database file and everything else is the unix VFS
// unchanged. Readers and the checkpointer open the database with the default VFS.
const walVFSName = "hebao-wal"

// walGather is how much of the log is gathered before it is written out early.
const walGather = 4 << 20

// walWriteMax is the most the unix VFS writes in one call (it masks larger counts
// with 0x1ffff), so a gathered run goes out in pieces of this size.
const walWriteMax = 64 << 10

// A wrapped log file, as SQLite allocates it: our sqlite3_file header (its methods
// and our handle), then the unix VFS's own file object.
type walFileHeader struct {
	methods uintptr
	handle  uintptr
}

const walInnerOffset = unsafe.Sizeof(walFileHeader{})

type walBuffer struct {
	inner uintptr // the unix VFS's file object
	mem   uintptr // walGather bytes of C memory
	off   int64   // the file offset of mem[0]
	n     int     // bytes gathered
}

var (
	walVFSOnce sync.Once
	walVFSErr  error

	walVFS     sqlite3.Tsqlite3_vfs
	walMethods sqlite3.Tsqlite3_io_methods
	innerVFS   uintptr

	walFilesMu sync.Mutex
	walFiles   = map[uintptr]*walBuffer{}
	walNext    uintptr
)

// registerWALVFS registers walVFS with SQLite once per process.
func registerWALVFS() error {
	walVFSOnce.Do(func() {
		tls := libc.NewTLS()
		defer tls.Close()
		innerVFS = sqlite3.Xsqlite3_vfs_find(tls, 0)
		if innerVFS == 0 {
			walVFSErr = fmt.Errorf("sqldb: SQLite has no default VFS")
			return
		}
		name, err := libc.CString(walVFSName)
		if err != nil {
			walVFSErr = err
			return
		}
		walVFS = *(*sqlite3.Tsqlite3_vfs)(ptr(innerVFS))
		walVFS.FpNext = 0
		walVFS.FzName = name
		walVFS.FszOsFile += int32(walInnerOffset)
		walVFS.FxOpen = cFunc(walOpen)
		walMethods = sqlite3.Tsqlite3_io_methods{
			FiVersion:               1,
			FxClose:                 cFunc(walClose),
			FxRead:                  cFunc(walRead),
			FxWrite:                 cFunc(walWrite),
			FxTruncate:              cFunc(walTruncate),
			FxSync:                  cFunc(walSync),
			FxFileSize:              cFunc(walFileSize),
			FxLock:                  cFunc(walLock),
			FxUnlock:                cFunc(walUnlock),
			FxCheckReservedLock:     cFunc(walCheckReservedLock),
			FxFileControl:           cFunc(walFileControl),
			FxSectorSize:            cFunc(walSectorSize),
			FxDeviceCharacteristics: cFunc(walDeviceCharacteristics),
		}
		if rc := sqlite3.Xsqlite3_vfs_register(tls, uintptr(unsafe.Pointer(&walVFS)), 0); rc != sqlite3.SQLITE_OK {
			walVFSErr = fmt.Errorf("sqldb: register VFS: code %d", rc)
		}
	})
	return walVFSErr
}

// ptr turns an address SQLite handed over (C memory, or our own globals) into a
// pointer.
func ptr(u uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&u)) }

// cFunc is the C function pointer of a Go function, as the transpiled SQLite calls it.
func cFunc[T any](f T) uintptr { return *(*uintptr)(unsafe.Pointer(&struct{ f T }{f})) }

func walOpen(tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	open := *(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{(*sqlite3.Tsqlite3_vfs)(ptr(innerVFS)).FxOpen}))
	if flags&sqlite3.SQLITE_OPEN_WAL == 0 {
		// Anything but the log is the unix VFS's own file, in place.
		return open(tls, innerVFS, zName, pFile, flags, pOutFlags)
	}
	h := (*walFileHeader)(ptr(pFile))
	h.methods = 0
	inner := pFile + walInnerOffset
	if rc := open(tls, innerVFS, zName, inner, flags, pOutFlags); rc != sqlite3.SQLITE_OK {
		return rc
	}
	if rc := wrapWAL(tls, pFile); rc != sqlite3.SQLITE_OK {
		innerMethods(inner).close(tls, inner)
		return rc
	}
	return sqlite3.SQLITE_OK
}

// wrapWAL makes pFile, whose inner file is open, a gathering log file.
func wrapWAL(tls *libc.TLS, pFile uintptr) int32 {
	mem := libc.Xmalloc(tls, walGather)
	if mem == 0 {
		return sqlite3.SQLITE_NOMEM
	}
	h := (*walFileHeader)(ptr(pFile))
	walFilesMu.Lock()
	walNext++
	h.handle = walNext
	walFiles[h.handle] = &walBuffer{inner: pFile + walInnerOffset, mem: mem}
	walFilesMu.Unlock()
	h.methods = uintptr(unsafe.Pointer(&walMethods))
	return sqlite3.SQLITE_OK
}

func walFile(pFile uintptr) *walBuffer {
	walFilesMu.Lock()
	b := walFiles[(*walFileHeader)(ptr(pFile)).handle]
	walFilesMu.Unlock()
	return b
}

// flush writes the gathered run to the file.
func (b *walBuffer) flush(tls *libc.TLS) int32 {
	if b.n == 0 {
		return sqlite3.SQLITE_OK
	}
	n := b.n
	b.n = 0
	return b.writeOut(tls, b.mem, n, b.off)
}

// writeOut writes n bytes at p to the file at off, in pieces the unix VFS can take.
func (b *walBuffer) writeOut(tls *libc.TLS, p uintptr, n int, off int64) int32 {
	m := innerMethods(b.inner)
	for done := 0; done < n; done += walWriteMax {
		k := min(walWriteMax, n-done)
		if rc := m.write(tls, b.inner, p+uintptr(done), int32(k), off+int64(done)); rc != sqlite3.SQLITE_OK {
			return rc
		}
	}
	return sqlite3.SQLITE_OK
}

func walWrite(tls *libc.TLS, pFile, pBuf uintptr, amt int32, off int64) int32 {
	b := walFile(pFile)
	if b.n > 0 && off == b.off+int64(b.n) && b.n+int(amt) <= walGather {
		libc.Xmemcpy(tls, b.mem+uintptr(b.n), pBuf, uint64(amt))
		b.n += int(amt)
		return sqlite3.SQLITE_OK
	}
	if rc := b.flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	if int(amt) > walGather {
		// Larger than the whole buffer (SQLite's writes to its log never are):
		// straight to the file, in pieces it can take.
		return b.writeOut(tls, pBuf, int(amt), off)
	}
	libc.Xmemcpy(tls, b.mem, pBuf, uint64(amt))
	b.off, b.n = off, int(amt)
	return sqlite3.SQLITE_OK
}

func walRead(tls *libc.TLS, pFile, pBuf uintptr, amt int32, off int64) int32 {
	b := walFile(pFile)
	if b.n > 0 && off < b.off+int64(b.n) && off+int64(amt) > b.off {
		if rc := b.flush(tls); rc != sqlite3.SQLITE_OK {
			return rc
		}
	}
	return innerMethods(b.inner).read(tls, b.inner, pBuf, amt, off)
}

func walSync(tls *libc.TLS, pFile uintptr, flags int32) int32 {
	b := walFile(pFile)
	if rc := b.flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	m := innerMethods(b.inner)
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&struct{ uintptr }{m.FxSync})))(tls, b.inner, flags)
}

func walTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	b := walFile(pFile)
	if rc := b.flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	m := innerMethods(b.inner)
	return (*(*func(*libc.TLS, uintptr, int64) int32)(unsafe.Pointer(&struct{ uintptr }{m.FxTruncate})))(tls, b.inner, size)
}

func walFileSize(tls *libc.TLS, pFile, pSize uintptr) int32 {
	b := walFile(pFile)
	if rc := b.flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return innerMethods(b.inner).ptrCall(tls, innerMethods(b.inner).FxFileSize, b.inner, pSize)
}

func walClose(tls *libc.TLS, pFile uintptr) int32 {
	h := (*walFileHeader)(ptr(pFile))
	b := walFile(pFile)
	rc := b.flush(tls)
	if rc2 := innerMethods(b.inner).close(tls, b.inner); rc == sqlite3.SQLITE_OK {
		rc = rc2
	}
	libc.Xfree(tls, b.mem)
	walFilesMu.Lock()
	delete(walFiles, h.handle)
	walFilesMu.Unlock()
	h.methods = 0
	return rc
}

func walLock(tls *libc.TLS, pFile uintptr, level int32) int32 {
	b := walFile(pFile)
	return innerMethods(b.inner).intCall(tls, innerMethods(b.inner).FxLock, b.inner, level)
}

func walUnlock(tls *libc.TLS, pFile uintptr, level int32) int32 {
	b := walFile(pFile)
	return innerMethods(b.inner).intCall(tls, innerMethods(b.inner).FxUnlock, b.inner, level)
}

func walCheckReservedLock(tls *libc.TLS, pFile, pOut uintptr) int32 {
	b := walFile(pFile)
	return innerMethods(b.inner).ptrCall(tls, innerMethods(b.inner).FxCheckReservedLock, b.inner, pOut)
}

func walFileControl(tls *libc.TLS, pFile uintptr, op int32, pArg uintptr) int32 {
	b := walFile(pFile)
	if rc := b.flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	m := innerMethods(b.inner)
	return (*(*func(*libc.TLS, uintptr, int32, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{m.FxFileControl})))(tls, b.inner, op, pArg)
}

func walSectorSize(tls *libc.TLS, pFile uintptr) int32 {
	b := walFile(pFile)
	return innerMethods(b.inner).fileCall(tls, innerMethods(b.inner).FxSectorSize, b.inner)
}

func walDeviceCharacteristics(tls *libc.TLS, pFile uintptr) int32 {
	b := walFile(pFile)
	return innerMethods(b.inner).fileCall(tls, innerMethods(b.inner).FxDeviceCharacteristics, b.inner)
}

// ioMethods are the unix VFS's methods of one file.
type ioMethods struct{ *sqlite3.Tsqlite3_io_methods }

func innerMethods(inner uintptr) ioMethods {
	return ioMethods{(*sqlite3.Tsqlite3_io_methods)(ptr((*sqlite3.Tsqlite3_file)(ptr(inner)).FpMethods))}
}

func (m ioMethods) write(tls *libc.TLS, f, buf uintptr, amt int32, off int64) int32 {
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&struct{ uintptr }{m.FxWrite})))(tls, f, buf, amt, off)
}

func (m ioMethods) read(tls *libc.TLS, f, buf uintptr, amt int32, off int64) int32 {
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&struct{ uintptr }{m.FxRead})))(tls, f, buf, amt, off)
}

func (m ioMethods) close(tls *libc.TLS, f uintptr) int32 { return m.fileCall(tls, m.FxClose, f) }

func (m ioMethods) fileCall(tls *libc.TLS, fn, f uintptr) int32 {
	return (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{fn})))(tls, f)
}

func (m ioMethods) intCall(tls *libc.TLS, fn, f uintptr, v int32) int32 {
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&struct{ uintptr }{fn})))(tls, f, v)
}

func (m ioMethods) ptrCall(tls *libc.TLS, fn, f, p uintptr) int32 {
	return (*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{fn})))(tls, f, p)
}
