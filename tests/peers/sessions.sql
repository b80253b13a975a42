-- tests/peers/sessions.sql -- ecs-session's sessions in DuckDB SQL, for
-- tests/34-session.bats and scripts/bench (which put the file, the key,
-- the gap and the lateness in ms for @FILE@, @KEY@, @GAP@, @LATENESS@).
-- A new session where the time since the key's previous event (by time,
-- then line) is the gap or more (LAG, then a running sum); each session
-- with the fields of ecs-session's lines; closed by the gap when the last
-- event time less the lateness is the gap past its end, else by the end.
SET threads=1;
CREATE MACRO iso(m) AS strftime(make_timestamp(m * 1000), '%Y-%m-%dT%H:%M:%S') ||
    CASE WHEN m % 1000 = 0 THEN 'Z' ELSE '.' || lpad(CAST(m % 1000 AS VARCHAR), 3, '0') || 'Z' END;
WITH e AS (
  SELECT *, row_number() OVER () AS n
  FROM read_json('@FILE@', format='newline_delimited', columns={
    @KEY@: 'VARCHAR', action: 'VARCHAR', product_id: 'VARCHAR', ts: 'VARCHAR',
    price: 'DECIMAL(18,6)', quantity: 'BIGINT', order_id: 'VARCHAR'})
), t AS (
  SELECT @KEY@ AS k, action AS a, product_id AS p, price, order_id, n,
    epoch_ms(CAST(ts AS TIMESTAMPTZ)) AS ms, coalesce(quantity, 1) AS q
  FROM e WHERE @KEY@ IS NOT NULL
), g AS (
  SELECT *, CASE WHEN ms - lag(ms) OVER (PARTITION BY k ORDER BY ms, n) >= @GAP@
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
SELECT k || '@' || iso(st) AS session, k AS @KEY@, iso(st) AS start, iso(en) AS "end",
  (en - st) / 1000.0 AS duration_s, events, browse, add_to_cart, remove_from_cart,
  purchase, other, products, landing_product, exit_product,
  CASE WHEN purchase > 0 THEN 'purchase' WHEN add_to_cart > 0 THEN 'cart'
    ELSE 'browse' END AS depth, purchase > 0 AS converted, orders, revenue,
  CASE WHEN l.k IS NULL THEN 0 ELSE l.cart_left END AS cart_left, events = 1 AS bounced,
  CASE WHEN max(en) OVER () - @LATENESS@ >= en + @GAP@ THEN 'gap' ELSE 'end' END AS closed
FROM agg LEFT JOIN left_ l USING (k, sid)
