package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docBlock returns the fenced block that follows marker in doc.
func docBlock(t *testing.T, doc, marker string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, marker)
	if !ok {
		t.Fatalf("docs/simulate.md has no %q", marker)
	}
	_, rest, _ = strings.Cut(rest, "```")
	_, rest, _ = strings.Cut(rest, "\n") // the fence's language
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatalf("unterminated block after %q", marker)
	}
	return block
}

// Rule R-X6: the example of docs/simulate.md ("what if we add Bob to team
// B") runs as written, from the repository's root, and prints what the
// document shows.
func TestDocsExampleR_X6(t *testing.T) {
	root, err := filepath.Abs("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "simulate.md"))
	if err != nil {
		t.Fatal(err)
	}
	command := strings.ReplaceAll(docBlock(t, string(doc), "<!-- example: command -->"), "\\\n", " ")
	args := strings.Fields(command)
	if len(args) < 2 || args[0] != "switchboard" || args[1] != "simulate" {
		t.Fatalf("the example is not a switchboard simulate command: %q", command)
	}
	want := docBlock(t, string(doc), "<!-- example: output -->")
	t.Chdir(root)
	code, stdout, stderr := run(t, nil, args[1:]...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != want {
		t.Fatalf("the example prints\n%s\ndocs/simulate.md shows\n%s", stdout, want)
	}
}
