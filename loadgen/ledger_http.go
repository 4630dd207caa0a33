package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// LedgerHTTP is a client of ledgerd's /v1 API.
type LedgerHTTP struct {
	base   string // scheme://host[:port][/prefix], no trailing slash
	client *http.Client
}

// NewLedgerHTTP returns a client of the ledgerd at base (e.g.
// http://127.0.0.1:8080).
func NewLedgerHTTP(base string, client *http.Client) (*LedgerHTTP, error) {
	u, err := ParseURL(base)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("ledgerd URL %q: give the base URL only, e.g. http://127.0.0.1:8080", u.Redacted())
	}
	return &LedgerHTTP{base: strings.TrimSuffix(base, "/"), client: client}, nil
}

func (l *LedgerHTTP) do(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return transportError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return transportError(err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound && method == http.MethodGet:
		return ErrLedgerNotFound
	case resp.StatusCode >= 300:
		return &StatusError{Code: resp.StatusCode}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return &kindError{"decode", fmt.Errorf("%s %s: bad JSON answer: %v", method, path, err)}
		}
	}
	return nil
}

// PostEntry posts a journal entry; ledgerd answers 201.
func (l *LedgerHTTP) PostEntry(ctx context.Context, tenant, description string, lines []LedgerLine) error {
	body, err := json.Marshal(struct {
		Description string       `json:"description"`
		Lines       []LedgerLine `json:"lines"`
	}{description, lines})
	if err != nil {
		return err
	}
	return l.do(ctx, http.MethodPost, "/v1/tenants/"+url.PathEscape(tenant)+"/entries", body, nil)
}

// Balance reads an account's balance.
func (l *LedgerHTTP) Balance(ctx context.Context, tenant, account string) (LedgerBalance, error) {
	var b LedgerBalance
	err := l.do(ctx, http.MethodGet, "/v1/tenants/"+url.PathEscape(tenant)+"/accounts/"+url.PathEscape(account)+"/balance", nil, &b)
	return b, err
}

// TrialBalance reads a tenant's trial balance.
func (l *LedgerHTTP) TrialBalance(ctx context.Context, tenant string) (LedgerTrialBalance, error) {
	var tb LedgerTrialBalance
	err := l.do(ctx, http.MethodGet, "/v1/tenants/"+url.PathEscape(tenant)+"/trial-balance", nil, &tb)
	return tb, err
}
