CREATE TABLE departments (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  location TEXT
);
CREATE TABLE employees (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  department_id INTEGER REFERENCES departments(id),
  salary REAL,
  hire_date DATE
);
INSERT INTO departments VALUES (1, 'Engineering', 'Berlin'), (2, 'Sales', 'Paris'), (3, 'Support', NULL);
INSERT INTO employees VALUES
  (1, 'Ada', 1, 120000, '2019-03-01'),
  (2, 'Linus', 1, 95000, '2021-07-15'),
  (3, 'Grace', 2, 70000, '2018-11-30'),
  (4, 'Ken', 2, 52000, '2023-01-09'),
  (5, 'Barbara', 3, 48000, NULL);
