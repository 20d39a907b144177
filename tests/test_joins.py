import pytest

from nl2sql.joins import Edge, join_graph, key_column, strip_foreign_keys, with_inferred_keys
from nl2sql.link import joined, link
from nl2sql.prompt import render_schema
from nl2sql.schema import parse_schema


def _edges(ddl: str, infer: bool = True) -> set[tuple[str, str, str, str, bool]]:
    return {(e.table, e.column, e.ref_table, e.ref_column, e.declared) for e in join_graph(parse_schema(ddl), infer).edges}


@pytest.mark.parametrize("ddl,edges", [
    # declared keys, as written
    ("CREATE TABLE a (id INT PRIMARY KEY); CREATE TABLE b (id INT, a_ref INT REFERENCES a(id));",
     {("b", "a_ref", "a", "id", True)}),
    # rule 1: a column spelled as another table's single-column primary key
    ("CREATE TABLE singer (Singer_ID INT PRIMARY KEY, name TEXT); CREATE TABLE singer_in_concert (concert_id INT, "
     "singer_id INT);", {("singer_in_concert", "singer_id", "singer", "Singer_ID", False)}),
    # rule 1 with a table that declares no primary key: its only id-shaped column is its key
    ("CREATE TABLE dept (dept_no INT, dept_id INT, title TEXT); CREATE TABLE emp (emp_name TEXT, dept_id INT);",
     {("emp", "dept_id", "dept", "dept_id", False)}),
    # rule 2: x_id -> x.id, the table's name singular or plural, any spelling of the column
    ("CREATE TABLE customers (id INT PRIMARY KEY, name TEXT); CREATE TABLE orders (id INT PRIMARY KEY, "
     "customer_id INT, total REAL);", {("orders", "customer_id", "customers", "id", False)}),
    ("CREATE TABLE Student (ID INT PRIMARY KEY); CREATE TABLE Grade (ID INT PRIMARY KEY, StudentID INT);",
     {("Grade", "StudentID", "Student", "ID", False)}),
    # a bare id never joins a bare id, nor names that are no key
    ("CREATE TABLE a (id INT PRIMARY KEY, name TEXT); CREATE TABLE b (id INT PRIMARY KEY, name TEXT);", set()),
    # 1:1: both tables keyed by people_id; only the table that the column names is referred to
    ("CREATE TABLE people (people_id INT PRIMARY KEY, name TEXT); CREATE TABLE employee (people_id INT PRIMARY KEY, "
     "salary INT);", {("employee", "people_id", "people", "people_id", False)}),
    # two keyed tables with the same key name, neither named by it: which refers to which is unknown
    ("CREATE TABLE a (code TEXT PRIMARY KEY); CREATE TABLE b (code TEXT PRIMARY KEY);", set()),
    # declared keys win: a pair with a declared key gets no inferred one (a.b_id is not inferred again)
    ("CREATE TABLE b (id INT PRIMARY KEY, b_id INT); CREATE TABLE a (b_id INT REFERENCES b(id), bb INT);",
     {("a", "b_id", "b", "id", True)}),
    # no key at all
    ("CREATE TABLE t (x INT, y TEXT); CREATE TABLE u (z INT, w TEXT);", set()),
])
def test_join_graph(ddl, edges):
    assert _edges(ddl) == edges


def test_declared_only_when_not_inferring():
    ddl = "CREATE TABLE customers (id INT PRIMARY KEY); CREATE TABLE orders (id INT, customer_id INT);"
    assert _edges(ddl, infer=False) == set()


def test_ambiguous_column_gets_no_key_unless_one_table_carries_its_name():
    two = ("CREATE TABLE shop (code TEXT PRIMARY KEY); CREATE TABLE depot (code TEXT PRIMARY KEY); "
           "CREATE TABLE item (name TEXT, code TEXT);")
    assert _edges(two) == set()  # item.code could be either
    named = ("CREATE TABLE dept (dept_id INT PRIMARY KEY); CREATE TABLE budget (dept_id INT PRIMARY KEY, amount INT);"
             "CREATE TABLE staff (name TEXT, dept_id INT);")
    assert ("staff", "dept_id", "dept", "dept_id", False) in _edges(named)
    assert not any(e[0] == "staff" and e[2] == "budget" for e in _edges(named))


@pytest.mark.parametrize("ddl,key", [
    ("CREATE TABLE t (a INT, b INT PRIMARY KEY)", "b"),
    ("CREATE TABLE t (a INT, b INT, PRIMARY KEY (a, b))", None),  # composite: no single key
    ("CREATE TABLE t (a INT, t_id INT)", "t_id"),
    ("CREATE TABLE t (a_id INT, b_id INT)", None),  # two id-shaped columns
])
def test_key_column(ddl, key):
    assert key_column(parse_schema(ddl).tables[0]) == key


def test_edge_joins_either_way():
    e = Edge("Orders", "customer_id", "customers", "id")
    assert e.joins("customers", "orders") and e.joins("ORDERS", "Customers") and not e.joins("orders", "items")


WAREHOUSE = """CREATE TABLE customers (id INT PRIMARY KEY, name TEXT, city TEXT);
CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, placed DATE);
CREATE TABLE order_items (order_id INT, product_id INT, quantity INT);
CREATE TABLE products (id INT PRIMARY KEY, title TEXT, price REAL);
CREATE TABLE suppliers (id INT PRIMARY KEY, company TEXT);
CREATE TABLE warehouses (id INT PRIMARY KEY, region TEXT);
CREATE TABLE shipments (id INT PRIMARY KEY, warehouse_id INT, shipped DATE);
CREATE TABLE audit_log (id INT PRIMARY KEY, note TEXT);"""


def test_inferred_keys_are_shown_and_followed_like_declared_ones():
    schema = with_inferred_keys(parse_schema(WAREHOUSE))
    text = render_schema(schema)
    assert "customer_id->customers.id" in text and "order_id->orders.id" in text and "product_id->products.id" in text
    # linking joins the tables a question needs through the bridge tables the inferred keys reveal
    assert joined({"customers", "products"}, schema) == {"customers", "orders", "order_items", "products"}
    assert joined({"customers", "products"}, parse_schema(WAREHOUSE)) == {"customers", "products"}
    shown = link("Which customers bought a product titled Lamp?", schema).tables
    assert {"customers", "orders", "order_items", "products"} <= set(shown)


def test_schema_without_inferred_keys_is_returned_as_is():
    schema = parse_schema("CREATE TABLE t (x INT); CREATE TABLE u (y INT);")
    assert with_inferred_keys(schema) is schema


def test_strip_foreign_keys():
    ddl = ('CREATE TABLE a (id INT PRIMARY KEY, name TEXT);\n'
           'CREATE TABLE b (id INT, a_id INT REFERENCES a(id) NOT NULL, x TEXT, '
           'FOREIGN KEY (x) REFERENCES a (name));\nINSERT INTO a VALUES (1, \'p\');')
    stripped = strip_foreign_keys(ddl)
    parsed = parse_schema(stripped)
    assert [fk for t in parsed.tables for fk in t.foreign_keys] == []
    assert [c.name for c in parsed.table("b").columns] == ["id", "a_id", "x"]
    assert parsed.table("a").columns[0].primary_key and "NOT NULL" in stripped
    assert "INSERT INTO a VALUES (1, 'p')" in stripped
    # what remains of the keys is inferred again by name where the rule reaches them
    assert _edges(stripped) == {("b", "a_id", "a", "id", False)}


def test_inference_looks_only_at_tables_a_column_could_name(monkeypatch):
    """A 500-table schema where every table has an `id` key: each column is checked against the tables its
    name points to, not against all 500 (a 2,000-table upload would cost seconds per request)."""
    import nl2sql.joins as joins

    ddl = "".join(f"CREATE TABLE t{i} (id INT PRIMARY KEY, name TEXT, t{i - 1}_id INT);" for i in range(1, 501))
    calls = []
    real = joins._refers
    monkeypatch.setattr(joins, "_refers", lambda *a: calls.append(a) or real(*a))
    edges = joins.inferred_edges(parse_schema(ddl))
    assert ("t2", "t1_id", "t1", "id") in {(e.table, e.column, e.ref_table, e.ref_column) for e in edges}
    assert len(edges) == 499 and len(calls) < 2_000
