CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  city TEXT,
  signup_date DATE
);
CREATE TABLE products (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  category TEXT,
  price DECIMAL(10,2)
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER REFERENCES customers(id),
  product_id INTEGER REFERENCES products(id),
  quantity INTEGER,
  order_date DATE
);
INSERT INTO customers VALUES (1, 'Alice', 'Lisbon', '2023-02-01'), (2, 'Bruno', 'Porto', '2023-05-17'),
  (3, 'Chen', 'Lisbon', '2024-01-09'), (4, 'Dana', 'Faro', NULL);
INSERT INTO products VALUES (1, 'Laptop', 'Electronics', 899.00), (2, 'Headphones', 'Electronics', 59.90),
  (3, 'Desk Chair', 'Furniture', 149.50), (4, 'Coffee Beans', 'Grocery', 12.75);
INSERT INTO orders VALUES (1, 1, 1, 1, '2024-03-01'), (2, 1, 4, 3, '2024-03-03'), (3, 2, 2, 2, '2024-03-10'),
  (4, 3, 3, 1, '2024-04-02'), (5, 3, 4, 5, '2024-04-05'), (6, 2, 4, 1, '2024-05-20');
