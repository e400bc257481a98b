// tlog-check checks trailhouse's transparency-log artifacts with Go's own
// implementation (golang.org/x/mod/sumdb/note and sumdb/tlog), an independent
// peer for lib/tlog's tests. It reads one JSON case on stdin and writes what
// Go concluded as JSON on stdout; the test compares that with lib/tlog.
//
// sumdb/tlog hashes as RFC 6962 does (leaf 0x00, node 0x01, SHA-256) and
// orders proofs the same way, so its proofs must equal ours byte for byte.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusionCase struct {
	Index int64       `json:"index"`
	Size  int64       `json:"size"`
	Leaf  tlog.Hash   `json:"leaf"`
	Root  tlog.Hash   `json:"root"`
	Proof []tlog.Hash `json:"proof"`
}

type consistencyCase struct {
	M     int64       `json:"m"`
	N     int64       `json:"n"`
	RootM tlog.Hash   `json:"rootM"`
	RootN tlog.Hash   `json:"rootN"`
	Proof []tlog.Hash `json:"proof"`
}

type input struct {
	PrivateKey  string            `json:"privateKey"` // optional: Go signs Text with it
	Text        string            `json:"text"`
	VerifierKey string            `json:"vkey"`
	Notes       []string          `json:"notes"`
	Leaves      []tlog.Hash       `json:"leaves"` // leaf hashes; Go computes roots and proofs from them
	Inclusion   []inclusionCase   `json:"inclusion"`
	Consistency []consistencyCase `json:"consistency"`
}

type noteResult struct {
	OK       bool     `json:"ok"`
	Error    string   `json:"error,omitempty"`
	Text     string   `json:"text,omitempty"`
	Verified []string `json:"verified,omitempty"`
	Size     int64    `json:"size"`
	Root     string   `json:"root,omitempty"`
}

type proofResult struct {
	OK    bool        `json:"ok"`
	Error string      `json:"error,omitempty"`
	Proof []tlog.Hash `json:"proof"` // Go's own proof for the same sizes, when they are valid
}

type output struct {
	Signed      string        `json:"signed,omitempty"`
	Notes       []noteResult  `json:"notes"`
	Roots       []tlog.Hash   `json:"roots"` // Go's root of every prefix 0..len(leaves)
	Inclusion   []proofResult `json:"inclusion"`
	Consistency []proofResult `json:"consistency"`
}

// store is an in-memory tlog hash storage filled from leaf hashes.
type store []tlog.Hash

func (s *store) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(*s)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = (*s)[x]
	}
	return out, nil
}

// openCheckpoint opens a note and reads the size and root of the checkpoint it carries.
func openCheckpoint(msg string, v note.Verifiers) noteResult {
	n, err := note.Open([]byte(msg), v)
	if err != nil {
		return noteResult{Error: err.Error()}
	}
	r := noteResult{OK: true, Text: n.Text}
	for _, s := range n.Sigs {
		r.Verified = append(r.Verified, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		return noteResult{Error: "checkpoint: fewer than 3 lines"}
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return noteResult{Error: "checkpoint: bad size " + lines[1]}
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return noteResult{Error: "checkpoint: bad root: " + err.Error()}
	}
	r.Size, r.Root = size, root.String()
	return r
}

func run(in input) (output, error) {
	var out output
	if in.PrivateKey != "" {
		signer, err := note.NewSigner(in.PrivateKey)
		if err != nil {
			return out, fmt.Errorf("note.NewSigner: %w", err)
		}
		signed, err := note.Sign(&note.Note{Text: in.Text}, signer)
		if err != nil {
			return out, fmt.Errorf("note.Sign: %w", err)
		}
		out.Signed = string(signed)
	}
	verifier, err := note.NewVerifier(in.VerifierKey)
	if err != nil {
		return out, fmt.Errorf("note.NewVerifier: %w", err)
	}
	for _, n := range in.Notes {
		out.Notes = append(out.Notes, openCheckpoint(n, note.VerifierList(verifier)))
	}

	s := &store{}
	for i, h := range in.Leaves {
		hs, err := tlog.StoredHashesForRecordHash(int64(i), h, s)
		if err != nil {
			return out, err
		}
		*s = append(*s, hs...)
	}
	out.Roots = []tlog.Hash{}
	for n := 0; n <= len(in.Leaves); n++ {
		h, err := tlog.TreeHash(int64(n), s)
		if err != nil {
			return out, err
		}
		out.Roots = append(out.Roots, h)
	}
	size := int64(len(in.Leaves))
	for _, c := range in.Inclusion {
		r := proofResult{OK: true}
		if err := tlog.CheckRecord(c.Proof, c.Size, c.Root, c.Index, c.Leaf); err != nil {
			r = proofResult{Error: err.Error()}
		}
		if c.Index >= 0 && c.Index < c.Size && c.Size <= size {
			r.Proof, err = tlog.ProveRecord(c.Size, c.Index, s)
			if err != nil {
				return out, err
			}
		}
		out.Inclusion = append(out.Inclusion, r)
	}
	for _, c := range in.Consistency {
		r := proofResult{OK: true}
		if err := tlog.CheckTree(c.Proof, c.N, c.RootN, c.M, c.RootM); err != nil {
			r = proofResult{Error: err.Error()}
		}
		if c.M >= 1 && c.M <= c.N && c.N <= size {
			r.Proof, err = tlog.ProveTree(c.N, c.M, s)
			if err != nil {
				return out, err
			}
		}
		out.Consistency = append(out.Consistency, r)
	}
	return out, nil
}

func main() {
	var in input
	dec := json.NewDecoder(os.Stdin)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "tlog-check: bad input:", err)
		os.Exit(2)
	}
	out, err := run(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tlog-check:", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "tlog-check:", err)
		os.Exit(1)
	}
}
