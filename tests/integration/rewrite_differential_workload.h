// The workload of the differential rewrite test: statements written once as
// templates and spelled for the old or the new schema version. Placeholders:
//   {name}   users.fullname | display_name        (rename_column)
//   {price}  orders.price   | price_cents         (retype_column, text -> bigint)
//   {p:X}    the price X as a literal: '9.99' | 999
//   {cust}   customer       | customers           (rename_table)
// In parameters, {p:X} is the bare text "9.99" | "999".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pgshim::testing {

enum StepFlags : std::uint32_t {
  kBoth = 0,
  kOldOnly = 1U << 0,
  kNewOnly = 1U << 1,
  // DESIGN.md section 3 defines a table's columns (`*`, INSERT without a
  // column list) as the physical order with counterparts replaced. Once the
  // old column is dropped, the new one sits where ALTER TABLE put it (last),
  // not where a freshly created schema has it: positional INSERT differs from
  // the reference databases by design, for both versions.
  kNotContracted = 1U << 2,
  // add_column: a new client's write before `expanded` is refused (0A000).
  kRefusedPlannedNew = 1U << 3,
};

struct Step {
  const char* sql;
  std::uint32_t flags = kBoth;
  std::vector<const char*> params = {};  // extended protocol when non-empty
};

// clang-format off
inline const std::vector<Step>& workload() {
  static const std::vector<Step> steps = {
    // Reads of the seed.
    {"SELECT * FROM users ORDER BY id"},
    {"SELECT id, {name} FROM users WHERE id = 1"},
    {"SELECT u.{name}, o.{price} FROM users u JOIN orders o ON o.user_id = u.id ORDER BY o.id"},
    {"SELECT {name}, count(*) FROM users u JOIN orders o ON o.user_id = u.id GROUP BY {name} ORDER BY 1"},
    {"SELECT * FROM orders WHERE {price} = {p:9.99}"},
    {"SELECT o.* FROM orders o ORDER BY o.id"},
    {"SELECT id FROM users WHERE id IN (SELECT user_id FROM orders WHERE {price} = {p:20.00}) ORDER BY id"},
    {"SELECT id, (SELECT max({price}) FROM orders o WHERE o.user_id = u.id) AS top FROM users u ORDER BY id"},
    {"SELECT * FROM users JOIN orders USING (id) ORDER BY id"},
    {"SELECT * FROM {cust} ORDER BY id"},
    {"SELECT {cust}.name FROM {cust} WHERE {cust}.id = 1"},
    {"WITH big AS (SELECT * FROM orders WHERE {price} <> {p:1.50}) SELECT count(*) FROM big"},
    {"SELECT {name} FROM users UNION ALL SELECT name FROM {cust} ORDER BY 1"},
    {"SELECT DISTINCT ON (user_id) user_id, {price} FROM orders ORDER BY user_id, id"},
    {"SELECT a.id, b.id FROM users a JOIN users b ON a.{name} < b.{name} ORDER BY 1, 2"},
    {"SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id) ORDER BY 1"},
    {"SELECT u.id, l.{price} FROM users u, LATERAL (SELECT {price} FROM orders o WHERE o.user_id = u.id ORDER BY o.id LIMIT 1) l ORDER BY 1"},
    {"SELECT * FROM users WHERE {name} = $1", kBoth, {"Ann"}},
    {"SELECT {price} FROM orders WHERE id = $1", kBoth, {"1"}},
    {"SELECT * FROM orders WHERE {price} = $1", kBoth, {"{p:20.00}"}},
    {"SELECT id, {name} FROM users ORDER BY {name} DESC LIMIT 2"},
    {"SELECT id, row_number() OVER (ORDER BY {price}) FROM orders ORDER BY 1"},
    {"SELECT u.* FROM users u WHERE u.id = 2"},
    {"TABLE {cust}"},
    {"SELECT email FROM users WHERE id = 3 FOR UPDATE"},
    {"SELECT {name} AS n FROM users WHERE id IN (1, 2) ORDER BY n"},
    {"SELECT count(*) FILTER (WHERE {name} LIKE 'A%') FROM users"},
    {"SELECT upper({name}) FROM users ORDER BY 1"},
    {"SELECT {cust}.* FROM {cust} JOIN orders ON orders.id = {cust}.id ORDER BY 1"},
    {"SELECT u.id, u.{name}, count(o.id) FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id ORDER BY u.id"},
    {"SELECT {price}, count(*) FROM orders GROUP BY {price} ORDER BY 1"},
    {"SELECT u.*, count(*) FROM users u GROUP BY u.id"},
    {"SELECT xmin IS NOT NULL AS versioned, ctid IS NOT NULL AS located, * FROM users WHERE id = 2"},
    {"SELECT id, legacy_flag FROM users ORDER BY id", kOldOnly},
    {"SELECT id, nickname FROM users ORDER BY id", kNewOnly},
    // Writes, each followed by reads that show what was written.
    {"INSERT INTO users (id, {name}, email) VALUES (10, 'Dan', 'd@x')"},
    {"INSERT INTO users (id, {name}, email) VALUES (11, 'Eve', 'e@x'), (12, 'Fay', 'f@x') RETURNING id, {name}"},
    {"INSERT INTO orders (id, user_id, {price}) VALUES (10, 10, {p:3.25})"},
    {"INSERT INTO orders (id, user_id, {price}) VALUES ($1, $2, $3) RETURNING *", kBoth, {"11", "11", "{p:4.00}"}},
    {"UPDATE users SET {name} = 'Ann2' WHERE id = 1"},
    {"UPDATE users SET {name} = {name} || '!' WHERE {name} = 'Bob' RETURNING {name}"},
    {"UPDATE orders SET {price} = {p:7.77} WHERE id = 2 RETURNING {price}"},
    {"UPDATE orders SET {price} = $1 WHERE id = $2", kBoth, {"{p:8.88}", "3"}},
    {"UPDATE users SET email = 'new@x' WHERE id = 2"},
    {"DELETE FROM orders WHERE {price} = {p:3.25} RETURNING id"},
    {"INSERT INTO users (id, {name}, email) VALUES (1, 'Dup', 'x') ON CONFLICT (id) DO UPDATE SET {name} = EXCLUDED.{name} RETURNING {name}"},
    {"INSERT INTO orders (id, user_id, {price}) VALUES (2, 1, {p:2.22}) ON CONFLICT (id) DO UPDATE SET {price} = EXCLUDED.{price}"},
    {"INSERT INTO orders (id, user_id, {price}) VALUES (3, 2, {p:0.50}) ON CONFLICT (id) DO NOTHING"},
    {"UPDATE orders o SET {price} = {p:6.00} FROM users u WHERE u.id = o.user_id AND u.{name} = 'Cyd'"},
    {"DELETE FROM orders o USING users u WHERE u.id = o.user_id AND u.{name} = 'Fay' RETURNING o.id"},
    {"INSERT INTO {cust} (id, name) VALUES (3, 'c3') RETURNING *"},
    {"UPDATE {cust} SET name = 'c1x' WHERE id = 1"},
    {"DELETE FROM {cust} WHERE id = 2"},
    {"WITH moved AS (DELETE FROM orders WHERE id = 11 RETURNING *) SELECT count(*) FROM moved"},
    {"WITH up AS (UPDATE users SET {name} = 'Zed' WHERE id = 12 RETURNING *) SELECT {name} FROM up"},
    {"INSERT INTO users (id, {name}, email) SELECT id + 100, name, 'c@x' FROM {cust}"},
    {"UPDATE users SET ({name}, email) = ('Tup', 't@x') WHERE id = 3"},
    {"MERGE INTO orders o USING (SELECT 1 AS id, {p:5.55} AS p) s ON o.id = s.id WHEN MATCHED THEN UPDATE SET {price} = s.p WHEN NOT MATCHED THEN INSERT (id, user_id, {price}) VALUES (s.id, 1, s.p)"},
    {"MERGE INTO orders o USING (SELECT 21 AS id, {p:2.50} AS p) s ON o.id = s.id WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT (id, user_id, {price}) VALUES (s.id, 2, s.p)"},
    {"INSERT INTO orders VALUES (20, 1, {p:1.00})"},
    {"INSERT INTO users VALUES (20, 'Gus', 'g@x')", kNotContracted},
    {"UPDATE users SET legacy_flag = false WHERE id = 1", kOldOnly},
    {"INSERT INTO users (id, {name}, email, legacy_flag) VALUES ($1, $2, 'h@x', $3)", kOldOnly, {"30", "Hal", "false"}},
    {"INSERT INTO users (id, {name}, email, nickname) VALUES (31, 'Ivy', 'i@x', 'iv')", kNewOnly | kRefusedPlannedNew},
    {"UPDATE users SET nickname = 'nn' WHERE id = 2", kNewOnly | kRefusedPlannedNew},
    {"INSERT INTO users (id, {name}, email) VALUES ($1, $2, $3)", kBoth, {"40", "Jo", "j@x"}},
    {"UPDATE users SET {name} = $1 WHERE id = $2 RETURNING *", kBoth, {"Kim", "40"}},
    {"DELETE FROM users WHERE {name} = $1", kBoth, {"Kim"}},
    {"DELETE FROM users WHERE id = 20 RETURNING *"},
    {"PREPARE pq AS SELECT {name} FROM users WHERE id = $1"},
    {"EXECUTE pq(1)"},
    {"DEALLOCATE pq"},
    {"INSERT INTO users (id, {name}, email) VALUES (50, 'Lu', 'l@x'), (51, DEFAULT, 'm@x')"},
    {"UPDATE users SET {name} = DEFAULT WHERE id = 50"},
    {"UPDATE users SET email = 'z@x' WHERE id = 3; SELECT {name}, email FROM users WHERE id = 3"},
    {"UPDATE orders SET user_id = 2 WHERE {price} = {p:7.77}"},
    {"SELECT id FROM orders WHERE {price} IS NOT NULL ORDER BY id"},
    {"INSERT INTO orders (id, user_id, {price}) SELECT 30 + id, id, {price} FROM orders WHERE id <= 2 RETURNING id"},
    {"SELECT * FROM users WHERE id >= 10 ORDER BY id"},
    {"SELECT * FROM orders ORDER BY id"},
    {"SELECT * FROM {cust} ORDER BY id"},
  };
  return steps;
}
// clang-format on

}  // namespace pgshim::testing
