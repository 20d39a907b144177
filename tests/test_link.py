"""Schema linking on hand-built schemas: what a question needs, the tables that join them, small
schemas untouched."""

import pytest

from nl2sql.link import joined, link, name_words, question_words, stem
from nl2sql.schema import parse_schema

# A 10-table shop: orders reach products through order_items (a bridge), customers through orders.
SHOP = """
CREATE TABLE customers (customer_id INT PRIMARY KEY, full_name TEXT, city TEXT);
CREATE TABLE orders (order_id INT PRIMARY KEY, customer_id INT REFERENCES customers(customer_id), placed DATE);
CREATE TABLE order_items (order_id INT REFERENCES orders(order_id), product_id INT REFERENCES products(product_id),
                          quantity INT);
CREATE TABLE products (product_id INT PRIMARY KEY, title TEXT, price REAL,
                       category_id INT REFERENCES categories(category_id));
CREATE TABLE categories (category_id INT PRIMARY KEY, label TEXT);
CREATE TABLE suppliers (supplier_id INT PRIMARY KEY, company TEXT);
CREATE TABLE warehouses (warehouse_id INT PRIMARY KEY, region TEXT);
CREATE TABLE employees (employee_id INT PRIMARY KEY, salary REAL);
CREATE TABLE shipments (shipment_id INT PRIMARY KEY, carrier TEXT);
CREATE TABLE reviews (review_id INT PRIMARY KEY, stars INT, product_id INT REFERENCES products(product_id));
"""


@pytest.fixture(scope="module")
def shop():
    return parse_schema(SHOP)


@pytest.mark.parametrize("word,expected", [("singers", "singer"), ("categories", "category"),
                                           ("addresses", "address"), ("class", "class"), ("ordered", "order")])
def test_stem(word, expected):
    assert stem(word) == expected


def test_names_split_on_case_and_underscores():
    assert name_words("StudentID") == ["student", "id"] and name_words("song_release_year") == ["song", "release", "year"]
    assert {"customer", "city"} <= question_words("Which customers live in each city?")


def test_the_tables_a_question_names_and_the_bridge_that_joins_them(shop):
    shown = link("What is the total quantity ordered per product category?", shop)
    assert shown.pruned and {"order_items", "products", "categories"} <= set(shown.tables)
    assert not {"employees", "shipments", "warehouses"} & set(shown.tables)
    assert shown.tables == [t.name for t in shop.tables if t.name in shown.tables]  # schema order


def test_foreign_key_paths_join_distant_tables(shop):
    # customers and products meet only through orders -> order_items (3 hops).
    assert joined({"customers", "products"}, shop) == {"customers", "orders", "order_items", "products"}
    assert joined({"customers", "categories"}, shop) == {"customers", "categories"}  # 4 hops: beyond MAX_HOPS
    assert joined({"employees", "customers"}, shop) == {"employees", "customers"}  # no path: nothing added


def test_tables_always_kept(shop):
    shown = link("How many?", shop, always={"shipments"})
    assert "shipments" in shown.tables
    assert "ghosts" not in link("How many?", shop, always={"shipments", "ghosts"}).tables  # not in the schema


def test_small_schemas_pass_through_untouched(shop):
    small = parse_schema("CREATE TABLE a (x INT); CREATE TABLE b (y INT); CREATE TABLE c (z INT);")
    shown = link("How many x?", small)
    assert shown.tables == ["a", "b", "c"] and not shown.pruned and shown.describe() == "all 3 tables shown"


def test_a_question_that_names_nothing_still_gets_tables(shop):
    shown = link("¿Cuántos hay?", shop)
    assert len(shown.tables) >= 4 and shown.describe().startswith(f"shown {len(shown.tables)} of 10 tables")


def test_the_pipeline_shows_the_linked_tables_and_keeps_the_sql_to_them():
    from nl2sql.pipeline import Decoding, Request, answer
    from tests.conftest import scripted

    lm = scripted(["SELECT title FROM products;"])
    a = answer(lm, Request("Which products cost more than 10?", SHOP))
    prompt = lm.calls[0].prompt
    assert a.linking.pruned and "products(" in prompt and "employees(" not in prompt
    assert a.linking.describe().startswith(f"shown {len(a.linking.tables)} of 10 tables: ")
    whole = scripted(["SELECT title FROM products;"])
    answer(whole, Request("Which products cost more than 10?", SHOP), Decoding(link=False))
    assert "employees(" in whole.calls[0].prompt


def test_a_request_can_choose_the_tables():
    from nl2sql.pipeline import Request, answer
    from tests.conftest import scripted

    lm = scripted(["SELECT carrier FROM shipments;"])
    a = answer(lm, Request("q", SHOP, tables=["Shipments", "warehouses"]))
    assert a.linking.tables == ["warehouses", "shipments"] and "customers(" not in lm.calls[0].prompt
    with pytest.raises(ValueError, match="no such table in the schema: nowhere"):
        answer(scripted(["SELECT 1;"]), Request("q", SHOP, tables=["nowhere"]))


def test_linking_is_bounded_on_a_500_table_schema():
    from nl2sql.pipeline import Request, answer
    from tests.conftest import scripted

    ddl = "".join(f"CREATE TABLE t{i} (id INT PRIMARY KEY, name_{i} TEXT, ref INT REFERENCES t{max(i - 1, 0)}(id));"
                  for i in range(500))
    a = answer(scripted(["SELECT name_7 FROM t7;"]), Request("What is name_7 of t7?", ddl))
    assert "t7" in a.linking.tables and len(a.linking.tables) < 50 and a.linking.total == 500
