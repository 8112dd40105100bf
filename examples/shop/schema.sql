-- The demo shop's schema before its migration: users.fullname, which version 2
-- of the application calls display_name.
CREATE TABLE users (
  id serial PRIMARY KEY,
  fullname text NOT NULL,
  email text NOT NULL
);
INSERT INTO users (fullname, email) VALUES
  ('Ada Lovelace', 'ada@example.com'),
  ('Alan Turing', 'alan@example.com');
