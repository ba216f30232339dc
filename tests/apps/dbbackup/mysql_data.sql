SET time_zone = '+00:00';
INSERT INTO customers (email, name, legacy, mood, perms, balance, score, ratio, tiny, big, born,
    wakes, last_seen, local_at, yr, avatar, token, flags, prefs, notes, spot)
VALUES
 ('a@example.com', 'Zoë 😀 ünïcödé', 'café crème', 'happy', 'read,admin',
  12345678901234567890.0123456789, 1e0/3, 1.1, -128, -9223372036854775808, '1000-01-01',
  '838:59:59.000000', '2038-01-19 03:14:07.999999', '9999-12-31 23:59:59.999', 2155,
  X'00FF0A0D5C2C0927', X'00000000', b'1010101010',
  '{"k": [1, 2.5, null, "\\u00e9"], "nested": {"a": true}}',
  'line1\nline2\r\n\ttabbed \\N back\\slash ''quoted'' "dq" \0 nul', POINT(1.5, -2.25)),
 ('b@example.com', '', '', 'it''s complicated', '', -999.9999999999, -1.7976931348623157e308,
  -3.40282e38, 127, 9223372036854775807, '2024-02-29', '-838:59:59', '1970-01-01 00:00:01',
  '2024-01-01 00:00:00', 1901, '', X'FFFFFFFF', b'0', '[]', '', POINT(0, 0)),
 ('c@example.com', NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO orders (customer_id, note) SELECT 1 + seq % 3, IF(seq % 2 = 0, CONCAT('even ', seq), NULL)
FROM seq_1_to_20;
SET foreign_key_checks = 0;
INSERT INTO departments VALUES (1, 'Research', 2), (2, 'Sales', 1);
INSERT INTO employees VALUES (1, 2, 2, 'first'), (2, 1, 1, NULL), (3, 1, 4, 'x'), (4, 2, NULL, 'y');
SET foreign_key_checks = 1;
