CREATE TABLE authors (
  author_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  country TEXT,
  birth_year INTEGER
);
CREATE TABLE books (
  book_id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  author_id INTEGER REFERENCES authors(author_id),
  genre TEXT,
  published_year INTEGER,
  pages INTEGER
);
CREATE TABLE loans (
  loan_id INTEGER PRIMARY KEY,
  book_id INTEGER REFERENCES books(book_id),
  member_name TEXT,
  loan_date DATE,
  returned BOOLEAN
);
INSERT INTO authors VALUES (1, 'Ursula K. Le Guin', 'USA', 1929), (2, 'Chinua Achebe', 'Nigeria', 1930),
  (3, 'Haruki Murakami', 'Japan', 1949), (4, 'Isabel Allende', 'Chile', 1942);
INSERT INTO books VALUES (1, 'A Wizard of Earthsea', 1, 'fantasy', 1968, 183), (2, 'The Dispossessed', 1, 'science fiction', 1974, 387),
  (3, 'Things Fall Apart', 2, 'fiction', 1958, 209), (4, 'Kafka on the Shore', 3, 'fiction', 2002, 505),
  (5, 'Norwegian Wood', 3, 'fiction', 1987, 296), (6, 'The House of the Spirits', 4, 'fiction', 1982, 433);
INSERT INTO loans VALUES (1, 1, 'Sam', '2024-01-05', 1), (2, 4, 'Ana', '2024-02-11', 0), (3, 4, 'Lee', '2024-03-02', 1),
  (4, 3, 'Sam', '2024-03-15', 0), (5, 6, 'Kim', '2024-04-20', 1);
