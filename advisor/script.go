package advisor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/poolpilot/poolpilot/loadgen"
	"github.com/poolpilot/poolpilot/pgpool"
)

// Statement is one statement of a script.
type Statement struct {
	Line int    // first line in the file, from 1
	SQL  string // without the closing ';'
}

// Script is a file of SQL statements run in order, on one connection, per
// iteration. Format: a statement ends at a ';' that ends a line (trailing
// blanks allowed); lines whose first non-blank characters are "--" are
// comments; blank statements are skipped; text after the last ';' is a
// final statement. A ';' inside a line does not split (so a dollar-quoted
// body on one line stays whole), and a statement spanning lines keeps them.
type Script struct {
	Statements []Statement
}

// ParseScript parses a script; it fails when there is no statement.
func ParseScript(data []byte) (Script, error) {
	var s Script
	var cur strings.Builder
	start, line := 0, 0
	flush := func() {
		if sql := strings.TrimSpace(cur.String()); sql != "" {
			s.Statements = append(s.Statements, Statement{Line: start, SQL: sql})
		}
		cur.Reset()
		start = 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line++
		text := sc.Text()
		trimmed := strings.TrimSpace(text)
		if strings.HasPrefix(trimmed, "--") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if start == 0 {
			start = line
		}
		if strings.HasSuffix(trimmed, ";") {
			cur.WriteString(strings.TrimSuffix(strings.TrimRight(text, " \t\r"), ";"))
			flush()
			continue
		}
		cur.WriteString(text + "\n")
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("read the script: %w", err)
	}
	flush()
	if len(s.Statements) == 0 {
		return s, errors.New("the script has no SQL statement (statements end with ';' at the end of a line)")
	}
	return s, nil
}

// StatementError is a script statement that failed.
type StatementError struct {
	Index int // from 1
	Stmt  Statement
	Err   error
}

func (e *StatementError) Error() string {
	return fmt.Sprintf("statement %d (line %d: %s) failed: %s", e.Index, e.Stmt.Line, firstLine(e.Stmt.SQL), pgpool.Redact(e.Err.Error()))
}
func (e *StatementError) Unwrap() error { return e.Err }

// Kind gives the error its SQLSTATE for the load generator's breakdown.
func (e *StatementError) Kind() string {
	var pe *pgpool.PgError
	if errors.As(e.Err, &pe) {
		return "sqlstate_" + pe.Code
	}
	return "sql"
}

func firstLine(s string) string {
	s, _, cut := strings.Cut(s, "\n")
	if len(s) > 80 {
		s, cut = s[:80], true
	}
	if cut {
		s += " …"
	}
	return s
}

// ScriptTarget runs a script per request on one pooled connection.
type ScriptTarget struct {
	pool   *pgpool.Pool
	script Script
}

// NewScriptTarget returns a load-generator target running script through pool.
func NewScriptTarget(pool *pgpool.Pool, script Script) *ScriptTarget {
	return &ScriptTarget{pool: pool, script: script}
}

// Do runs every statement in order on one connection. After a failure it
// sends a best-effort rollback, so that a script with its own transaction
// does not return an aborted connection to the pool.
func (t *ScriptTarget) Do(ctx context.Context) (loadgen.Result, error) {
	c, err := t.pool.Acquire(ctx)
	if err != nil {
		return loadgen.Result{}, err
	}
	defer c.Release()
	for i, st := range t.script.Statements {
		if _, err := c.Exec(ctx, st.SQL); err != nil {
			if ctx.Err() == nil {
				_, _ = c.Exec(ctx, "rollback")
			}
			return loadgen.Result{}, &StatementError{Index: i + 1, Stmt: st, Err: err}
		}
	}
	return loadgen.Result{}, nil
}

// Preflight runs the script once; the error names the failing statement.
func (t *ScriptTarget) Preflight(ctx context.Context) error {
	_, err := t.Do(ctx)
	return err
}

// PoolSample returns the pool's acquire-wait p95 and utilization.
func (t *ScriptTarget) PoolSample() loadgen.PoolSample {
	st := t.pool.Stats()
	return loadgen.PoolSample{WaitP95MS: st.WaitP95MS, Utilization: st.Utilization}
}
