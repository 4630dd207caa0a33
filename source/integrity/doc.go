// Package integrity is the criteria source of integrity_ok: it polls an
// integrity probe such as ledgerd's GET /v1/integrity, whose JSON answer
// carries a boolean "ok" (HTTP 200 when true, 500 when false). ok true is
// 1, ok false is 0 (a P0 in the default set); a failed poll or an answer
// without a boolean "ok" is a data gap.
package integrity
