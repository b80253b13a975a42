#!/usr/bin/env bats
# ecs-session: sessions checked against DuckDB's gaps-and-islands over
# LAG(ts), abandoned carts against a small independent model, late
# bridging events, --max-open, a kill -9 restart from --state, bad lines.

load helpers

SHOP="$FIXTURES/session/shop.ndjson"

# sessions_sql FILE KEY GAP_MS LATENESS_MS: DuckDB's sessions of FILE, with
# the fields of ecs-session's lines: a new session where the time since the
# key's previous event (time, then line) is GAP_MS or more; closed by the
# gap when the last event time less the lateness is GAP_MS past its end.
sessions_sql() {
	local file=$1 key=$2 gap=$3 lateness=$4
	duckdb_sql "SET threads=1;
CREATE MACRO iso(m) AS strftime(make_timestamp(m * 1000), '%Y-%m-%dT%H:%M:%S') ||
    CASE WHEN m % 1000 = 0 THEN 'Z' ELSE '.' || lpad(CAST(m % 1000 AS VARCHAR), 3, '0') || 'Z' END;
WITH e AS (
  SELECT *, row_number() OVER () AS n
  FROM read_json('$file', format='newline_delimited', columns={
    $key: 'VARCHAR', action: 'VARCHAR', product_id: 'VARCHAR', ts: 'VARCHAR',
    price: 'DECIMAL(18,6)', quantity: 'BIGINT', order_id: 'VARCHAR'})
), t AS (
  SELECT $key AS k, action AS a, product_id AS p, price, order_id, n,
    epoch_ms(CAST(ts AS TIMESTAMPTZ)) AS ms, coalesce(quantity, 1) AS q
  FROM e WHERE $key IS NOT NULL
), g AS (
  SELECT *, CASE WHEN ms - lag(ms) OVER (PARTITION BY k ORDER BY ms, n) >= $gap
    THEN 1 ELSE 0 END AS brk FROM t
), s AS (
  SELECT *, sum(brk) OVER (PARTITION BY k ORDER BY ms, n
    ROWS UNBOUNDED PRECEDING) AS sid FROM g
), lp AS (
  SELECT k, sid, p,
    coalesce(sum(q) FILTER (a = 'add_to_cart'), 0)
      - coalesce(sum(q) FILTER (a = 'remove_from_cart'), 0)
      - coalesce(sum(q) FILTER (a = 'purchase'), 0) AS units,
    arg_max(price, CAST(ms AS HUGEINT) * 100000000 + n) FILTER (a = 'add_to_cart' AND price IS NOT NULL) AS price
  FROM s WHERE p IS NOT NULL GROUP BY k, sid, p
), left_ AS (
  SELECT k, sid, CASE WHEN bool_or(price IS NULL) FILTER (units > 0) THEN NULL
    ELSE coalesce(sum(units * price) FILTER (units > 0), 0) END AS cart_left
  FROM lp GROUP BY k, sid
), agg AS (
  SELECT k, sid, min(ms) AS st, max(ms) AS en, count(*) AS events,
    count(*) FILTER (a = 'browse') AS browse,
    count(*) FILTER (a = 'add_to_cart') AS add_to_cart,
    count(*) FILTER (a = 'remove_from_cart') AS remove_from_cart,
    count(*) FILTER (a = 'purchase') AS purchase,
    count(*) FILTER (a NOT IN ('browse', 'add_to_cart', 'remove_from_cart', 'purchase')) AS other,
    count(DISTINCT p) FILTER (a = 'browse') AS products,
    arg_min_null(p, CAST(ms AS HUGEINT) * 100000000 + n) AS landing_product,
    arg_max_null(p, CAST(ms AS HUGEINT) * 100000000 + n) AS exit_product,
    count(DISTINCT order_id) FILTER (a = 'purchase')
      + count(*) FILTER (a = 'purchase' AND order_id IS NULL) AS orders,
    CASE WHEN count(*) FILTER (a = 'purchase' AND price IS NULL) > 0 THEN NULL
      ELSE coalesce(sum(price * q) FILTER (a = 'purchase'), 0) END AS revenue
  FROM s GROUP BY k, sid
)
SELECT k || '@' || iso(st) AS session, k AS $key, iso(st) AS start, iso(en) AS \"end\",
  (en - st) / 1000.0 AS duration_s, events, browse, add_to_cart, remove_from_cart,
  purchase, other, products, landing_product, exit_product,
  CASE WHEN purchase > 0 THEN 'purchase' WHEN add_to_cart > 0 THEN 'cart'
    ELSE 'browse' END AS depth, purchase > 0 AS converted, orders, revenue,
  CASE WHEN l.k IS NULL THEN 0 ELSE l.cart_left END AS cart_left, events = 1 AS bounced,
  CASE WHEN max(en) OVER () - $lateness >= en + $gap THEN 'gap' ELSE 'end' END AS closed
FROM agg LEFT JOIN left_ l USING (k, sid)"
}

# canon: session lines with every number and numeric string as its
# shortest text, keys sorted, lines sorted: how ecs and DuckDB are compared.
canon() {
	jq -c -S 'with_entries(.value |= (if type == "number" then (. + 0 | tostring)
	    elif type == "string" and test("^-?[0-9]+(\\.[0-9]+)?$") then (tonumber + 0 | tostring)
	    else . end))' | LC_ALL=C sort
}

# same_as_duckdb FILE KEY LATENESS_MS [ECS-SESSION OPTIONS]: every session
# and field equal; at least $min sessions.
same_as_duckdb() {
	local file=$1 key=$2 lateness=$3
	shift 3
	ecs-session -q --key "$key" --max-duration 1000d \
	    --lateness "$( ((lateness)) && echo "${lateness}ms" || echo 0)" \
	    "$@" "$file" |
	    canon > "$BATS_TEST_TMPDIR/ecs"
	sessions_sql "$file" "$key" 1800000 "$lateness" |
	    canon > "$BATS_TEST_TMPDIR/duck"
	n=$(wc -l < "$BATS_TEST_TMPDIR/duck")
	echo "# $n sessions" >&3
	(( n >= min ))
	diff "$BATS_TEST_TMPDIR/duck" "$BATS_TEST_TMPDIR/ecs" | head -20 >&2
	cmp -s "$BATS_TEST_TMPDIR/duck" "$BATS_TEST_TMPDIR/ecs"
}

@test "session: the fixture's sessions, byte for byte" {
	run --separate-stderr ecs-session --lateness 1h "$SHOP"
	is "$status" 0
	is "${#lines[@]}" 6
	is "${lines[0]}" '{"session":"1@2026-11-01T10:00:00Z","user_id":1,"start":"2026-11-01T10:00:00Z","end":"2026-11-01T10:08:00Z","duration_s":480,"events":4,"browse":1,"add_to_cart":2,"remove_from_cart":1,"purchase":0,"other":0,"products":1,"landing_product":101,"exit_product":103,"depth":"cart","converted":false,"orders":0,"revenue":0,"cart_left":39.80,"bounced":false,"closed":"gap"}'
	is "${lines[1]}" '{"session":"3@2026-11-01T10:09:00Z","user_id":3,"start":"2026-11-01T10:09:00Z","end":"2026-11-01T10:20:00Z","duration_s":660,"events":3,"browse":0,"add_to_cart":0,"remove_from_cart":0,"purchase":2,"other":1,"products":0,"landing_product":104,"exit_product":104,"depth":"purchase","converted":true,"orders":1,"revenue":22.60,"cart_left":0,"bounced":false,"closed":"gap"}'
	# A gap of 29:59.999 keeps the session; a purchase without a price
	# makes the revenue unknown (null), not 19.90.
	like "${lines[2]}" '{"session":"u2@2026-11-01T10:06:00.250Z",*"end":"2026-11-01T10:36:00.249Z","duration_s":1799.999,"events":3,*"cart_left":12,*'
	like "${lines[4]}" '*"orders":2,"revenue":null,*'
	like "$stderr" "*shop.ndjson:11: action 'fav' is counted as other*"
}

@test "session: the fixture against DuckDB (LAG over each key's events)" {
	need_duckdb
	min=6
	same_as_duckdb "$SHOP" user_id 3600000
}

@test "session: a late event that bridges two sessions merges them (Flink)" {
	ev '{"user_id":4,"action":"browse","product_id":1,"ts":"2026-11-02T12:00:00Z"}' \
	   '{"user_id":4,"action":"browse","product_id":2,"ts":"2026-11-02T12:40:00Z"}' \
	   '{"user_id":4,"action":"browse","product_id":3,"ts":"2026-11-02T12:20:00Z"}'
	run -0 ecs-session --lateness 1h "$IN"
	is "${#lines[@]}" 1
	like "$output" '{"session":"4@2026-11-02T12:00:00Z",*"end":"2026-11-02T12:40:00Z","duration_s":2400,"events":3,*"landing_product":1,"exit_product":2,*'
	# Without the lateness the third is late: two sessions, one late line.
	run --separate-stderr ecs-session --late "$BATS_TEST_TMPDIR/late" "$IN"
	is "$status" 0
	is "${#lines[@]}" 2
	is "$(cat "$BATS_TEST_TMPDIR/late")" "$(sed -n 3p "$IN")"
	like "$stderr" "*1 late event (before the watermark), in *late*"
}

@test "session: the Taobao sample against DuckDB (out of order: lateness 1000d)" {
	need_duckdb
	shared_data taobao-user-behavior-sample/events.ndjson
	min=5000
	same_as_duckdb "$data" user_id 86400000000
}

@test "session: the UCI purchases against DuckDB (orders, exact revenue)" {
	need_duckdb
	shared_data uci-online-retail/events.ndjson.gz
	zcat "$data" > "$BATS_TEST_TMPDIR/uci.ndjson"
	min=15000
	same_as_duckdb "$BATS_TEST_TMPDIR/uci.ndjson" user_id 0
}

@test "session: 200k ecs-gen events against DuckDB" {
	need_duckdb
	ecs-gen -n 200000 -s 7 > "$BATS_TEST_TMPDIR/gen.ndjson"
	min=20000
	same_as_duckdb "$BATS_TEST_TMPDIR/gen.ndjson" user_id 0
}

@test "session: --key session_id keeps the input's own sessions apart" {
	need_duckdb
	ecs-gen -n 20000 -s 3 > "$BATS_TEST_TMPDIR/gen.ndjson"
	min=1000
	same_as_duckdb "$BATS_TEST_TMPDIR/gen.ndjson" session_id 0
}
