package email

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Files stores attachments on disk, content-addressed: a file's name is
// the SHA-256 of its bytes, under <dir>/attachments/<first two hex
// digits>/. The same file sent twice (or to two channels) is stored once,
// and a write is atomic (a temporary file renamed into place), so a crash
// never leaves half a file under a valid name.
type Files struct {
	dir string
}

// NewFiles stores under dir, created on first write.
func NewFiles(dir string) *Files { return &Files{dir: dir} }

// Path returns where the file with this SHA-256 (hex) is kept, and
// whether sum is a well-formed SHA-256.
func (f *Files) Path(sum string) (string, bool) {
	if b, err := hex.DecodeString(sum); err != nil || len(b) != 32 {
		return "", false
	}
	return filepath.Join(f.dir, "attachments", sum[:2], sum), true
}

// Put stores data under sum unless it is there already.
func (f *Files) Put(sum string, data []byte) error {
	path, ok := f.Path(sum)
	if !ok {
		return fmt.Errorf("email: %q is not a SHA-256", sum)
	}
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// Open opens the stored file with this SHA-256; fs.ErrNotExist if there is
// none.
func (f *Files) Open(sum string) (*os.File, error) {
	path, ok := f.Path(sum)
	if !ok {
		return nil, fs.ErrNotExist
	}
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fs.ErrNotExist
	}
	return file, err
}
