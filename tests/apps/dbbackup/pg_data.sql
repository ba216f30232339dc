INSERT INTO public.customers (email, name, mood, balance, score, ratio, born, wakes, last_seen,
    local_at, wait, avatar, prefs, raw_prefs, tags, ip, uid, flags, active)
VALUES
 ('a@example.com', 'Zoë 😀 ünïcödé', 'happy', 12345678901234567890.0123456789, 1.0000000000000002,
  3.4028235e38, '0001-01-01', '23:59:59.999999', '2024-02-29 23:59:59.123456+05:30',
  '2024-01-01 00:00:00.123', '1 year 2 mons 3 days 04:05:06.789', '\x00ff0a0d5c2c09'::bytea,
  '{"k": [1, 2.5, null, "\u00e9"], "nested": {"a": true}}', '{"dup": 1, "dup": 2}',
  ARRAY['x', NULL, 'tab	in', 'back\slash', 'quote"d', ''], '2001:db8::1/64',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', B'1010', true),
 ('b@example.com', E'line1\nline2\r\n\ttabbed \\N not null', 'it''s complicated', -999.9999999999,
  'NaN', '-Infinity', 'infinity', '00:00', '-infinity', '294276-12-31 23:59:59.999',
  '-1 days', ''::bytea, '[]', 'null', '{}', '127.0.0.1', NULL, B'', false),
 ('c@example.com', NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL);
INSERT INTO public.orders (customer_id, quantity, note)
SELECT 10 + 3 * (g % 3), g, CASE WHEN g % 2 = 0 THEN 'even ' || g END
FROM generate_series(1, 20) g;
BEGIN;
INSERT INTO extra.departments VALUES (1, 'Research', 2), (2, 'Sales', 1);
INSERT INTO extra.employees VALUES (1, 2, 2, 'first'), (2, 1, 1, NULL), (3, 1, 4, 'x'), (4, 2, NULL, 'y');
COMMIT;
SELECT setval('public.invoice_number', 5000);
REFRESH MATERIALIZED VIEW public.order_days;
