"""Value generators for synthetic rows, by column kind. Pure functions of a random.Random."""

from __future__ import annotations

import random
from datetime import date, timedelta

FIRST = ("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
         "Joseph Jessica Thomas Sarah Carlos Maria Wei Mei Aisha Omar Priya Arjun Yuki Hiroshi Fatima Ahmed "
         "Olga Ivan Sofia Lucas Emma Noah Chloe Liam Amara Kwame Ingrid Lars Elena Mateo Zara Ravi").split()
LAST = ("Smith Johnson Garcia Brown Jones Miller Davis Rodriguez Martinez Lopez Wilson Anderson Taylor Thomas "
        "Moore Jackson Martin Lee Chen Wang Kim Patel Singh Nguyen Khan Ali Sato Tanaka Müller Schmidt Rossi "
        "Silva Santos Costa Ivanova Novak Okafor Mensah Larsen Dubois O'Brien").split()
CITIES = ("New York,London,Paris,Berlin,Tokyo,Toronto,Sydney,Mumbai,Lagos,Cairo,São Paulo,Madrid,Rome,Seoul,"
          "Chicago,Houston,Dublin,Oslo,Nairobi,Lima,Denver,Austin,Boston,Seattle,Manila,Jakarta,Warsaw,Prague,"
          "Vienna,Zurich,Lisbon,Athens,Istanbul,Dubai,Singapore,Bangkok,Hanoi,Auckland,Montreal,Vancouver").split(",")
COUNTRIES = ("USA,UK,France,Germany,Japan,Canada,Australia,India,Nigeria,Egypt,Brazil,Spain,Italy,South Korea,"
             "Mexico,Kenya,Peru,Norway,Poland,Vietnam,China,Indonesia,Turkey,Sweden,Argentina").split(",")
COMPANY_A = "Acme Global Blue Green Summit Apex Pioneer Northern Golden Silver Bright Urban Pacific Atlas".split()
COMPANY_B = "Corp Industries Labs Partners Group Solutions Systems Holdings Works Logistics Dynamics".split()
WORDS = "alpha bravo delta echo nova orion vega lumen terra aqua sol zen astra".split()
STREETS = "Main Oak Pine Maple Cedar Elm Lake Hill Park River Church High".split()


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def company(rng: random.Random) -> str:
    return f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)}"


def a_date(rng: random.Random, lo: int = 2018, hi: int = 2024) -> str:
    start = date(lo, 1, 1)
    return (start + timedelta(days=rng.randrange((date(hi, 12, 31) - start).days))).isoformat()


def email(rng: random.Random) -> str:
    return f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower().replace(chr(39), '')}{rng.randrange(100)}@example.com"


def code(rng: random.Random) -> str:
    return f"{''.join(rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ') for _ in range(3))}-{rng.randrange(100, 1000)}"


def phone(rng: random.Random) -> str:
    return f"555-{rng.randrange(100, 1000)}-{rng.randrange(1000, 10000)}"


def address(rng: random.Random) -> str:
    return f"{rng.randrange(1, 999)} {rng.choice(STREETS)} Street"


def value(kind: str, args: tuple, rng: random.Random):
    """One value of `kind` ('person', 'int', 'money', 'pick', ...) with its spec arguments."""
    if kind in ("int", "money", "float"):
        lo, hi = (float(args[0]), float(args[1])) if args else (0, 1000)
        if kind == "int":
            return rng.randint(int(lo), int(hi))
        return round(rng.uniform(lo, hi), 2 if kind == "money" else 1)
    if kind in ("pick", "choice"):
        return rng.choice(args)
    if kind == "date":
        return a_date(rng, *(int(a) for a in args)) if args else a_date(rng)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "year":
        return rng.randint(int(args[0]) if args else 1990, int(args[1]) if args else 2024)
    return GENERATORS[kind](rng)


GENERATORS = {
    "person": person, "company": company, "email": email, "code": code, "phone": phone, "address": address,
    "city": lambda r: r.choice(CITIES), "country": lambda r: r.choice(COUNTRIES),
    "word": lambda r: f"{r.choice(WORDS).title()} {r.randrange(1, 99)}",
}
TEXT_KINDS = {"person", "company", "email", "code", "phone", "address", "city", "country", "word", "pick", "choice"}
NUMERIC_KINDS = {"int", "money", "float", "year"}


def sql_type(kind: str, rng: random.Random) -> str:
    """A realistic SQL type for a column kind, varied the way real schemas vary."""
    options = {
        "int": ("INTEGER", "INT"), "year": ("INTEGER", "INT"), "money": ("DECIMAL(10,2)", "REAL", "NUMERIC(12,2)"),
        "float": ("REAL", "FLOAT", "DECIMAL(8,1)"), "date": ("DATE", "DATE", "TEXT"), "bool": ("BOOLEAN", "INTEGER"),
    }.get(kind, ("TEXT", "VARCHAR(100)", "VARCHAR(255)"))
    return rng.choice(options)
