package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNoReferencesOutsideRepository: users get this repository alone, so no
// comment, test or document may send them to a file they do not have. A
// Microsoft fact cites its public Microsoft Learn page; a design reason is
// written into docs/design.md.
func TestNoReferencesOutsideRepository(t *testing.T) {
	out, err := exec.Command("git", "ls-files").Output()
	if err != nil {
		t.Fatalf("git ls-files (the test needs a git checkout): %v", err)
	}
	// Built from pieces so that this file does not match itself.
	banned := []string{
		"DESIGN" + ".md",
		"defender-api" + ".md",
		"style-anchors" + ".md",
		"reference " + "§",
		"the reference" + " (§",
		"reference facts" + " (§",
		"../" + "shared/",
	}
	for _, f := range strings.Fields(string(out)) {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // listed but deleted in the work tree
		}
		s := string(b)
		for _, ban := range banned {
			if i := strings.Index(s, ban); i >= 0 {
				line := strings.Count(s[:i], "\n") + 1
				t.Errorf("%s:%d cites %q, a file outside the repository: cite the public page or docs/ instead", f, line, ban)
			}
		}
	}
}
