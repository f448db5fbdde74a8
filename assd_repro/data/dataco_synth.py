"""Synthetic DataCo-like supply-chain table: same 53 columns, dtypes, value sets and identities.

:func:`make_dataco_like` is the default data of the supply-chain notebooks when the real file
(Mendeley Data, DOI 10.17632/8gx2fvg2k6) is not at hand. Its value sets, shares and the delivery
rules come from a random 6,000-row sample of the real file.
"""

from __future__ import annotations

from urllib.parse import quote_plus

import numpy as np
import pandas as pd
from scipy.special import ndtri

from assd_repro.data.dataco import (
    DATACO_COLUMNS,
    DATACO_DATE_COLUMNS,
    format_dataco_dates,
)

__all__ = ["DATACO_SHIPPING_MODES", "make_dataco_like"]

# Shipping mode -> (share of rows, scheduled days), as in the real data.
DATACO_SHIPPING_MODES: dict[str, tuple[float, int]] = {
    "Standard Class": (0.59, 4),
    "Second Class": (0.20, 2),
    "First Class": (0.157, 1),
    "Same Day": (0.053, 0),
}
# Order Status -> (share, payment Type); each status occurs with exactly one Type in the data.
_STATUSES = {
    "COMPLETE": (0.336, "DEBIT"), "PENDING_PAYMENT": (0.217, "PAYMENT"),
    "PENDING": (0.119, "TRANSFER"), "PROCESSING": (0.118, "TRANSFER"), "CLOSED": (0.105, "CASH"),
    "ON_HOLD": (0.053, "DEBIT"), "SUSPECTED_FRAUD": (0.024, "TRANSFER"),
    "CANCELED": (0.019, "TRANSFER"), "PAYMENT_REVIEW": (0.009, "PAYMENT"),
}  # fmt: skip
_CANCELLED = ("CANCELED", "SUSPECTED_FRAUD")
_SEGMENTS = {"Consumer": 0.517, "Corporate": 0.31, "Home Office": 0.173}
_ITEMS_PER_ORDER = np.array([0.30, 0.15, 0.20, 0.20, 0.15])  # 1..5 items, mean 2.75
_SMALL_QUANTITY = np.array([0.22, 0.19, 0.20, 0.19, 0.20])  # 1..5 units of items under $100
_DISCOUNT_RATES = np.array(
    [0, .01, .02, .03, .04, .05, .06, .07, .09, .10, .12, .13, .15, .16, .17, .18, .20, .25]
)  # fmt: skip

# Market -> delay propensity (in noise standard deviations; + means slower).
_MARKET_EFFECT = {"Europe": -0.2, "LATAM": 0.2, "Pacific Asia": 0.1, "USCA": -0.3, "Africa": 0.25}
# (market, region, share of rows, extra effect of the region, "country|state|city[|zip]; ..."):
# the biggest destinations of each region in the data; zip codes only in the USA.
_REGIONS = [
    ("LATAM", "Central America", .158, .10, "México|Distrito Federal|Mexico City; "
     "Honduras|Francisco Morazán|Tegucigalpa; Nicaragua|Managua|Managua; "
     "El Salvador|San Salvador|San Salvador; Guatemala|Guatemala|Guatemala"),
    ("Europe", "Western Europe", .157, -.10, "Francia|Isla de Francia|Paris; "
     "Alemania|Berlín|Berlín; Alemania|Renania del Norte-Westfalia|Colonia; Austria|Viena|Viena; "
     "Países Bajos|Holanda Septentrional|Amsterdam"),
    ("LATAM", "South America", .086, .0, "Brasil|São Paulo|São Paulo; "
     "Argentina|Buenos Aires|Buenos Aires; Colombia|Bogotá|Bogotá"),
    ("Europe", "Northern Europe", .058, .0, "Reino Unido|Inglaterra|London; "
     "Reino Unido|Inglaterra|Birmingham; Suecia|Estocolmo|Estocolmo"),
    ("Europe", "Southern Europe", .050, .10, "Italia|Lacio|Rome; España|Madrid|Madrid; "
     "Italia|Lombardía|Milan"),
    ("Pacific Asia", "Oceania", .050, -.10, "Australia|Nueva Gales del Sur|Sydney; "
     "Australia|Victoria|Melbourne; Nueva Zelanda|Auckland|Auckland"),
    ("Pacific Asia", "Southeast Asia", .048, .10, "Filipinas|Capital Nacional|Manila; "
     "Indonesia|Yakarta|Yakarta; Tailandia|Bangkok|Bangkok"),
    ("USCA", "West of USA ", .044, .0, "Estados Unidos|California|Los Angeles|90004; "
     "Estados Unidos|California|San Francisco|94122; Estados Unidos|Washington|Seattle|98105"),
    ("Pacific Asia", "Eastern Asia", .043, -.10, "China|Shanghái|Shanghái; China|Pekín|Pekín; "
     "Corea del Sur|Seúl|Seúl"),
    ("LATAM", "Caribbean", .042, .10, "República Dominicana|Santo Domingo|Santo Domingo; "
     "Cuba|Santiago de Cuba|Santiago de Cuba; Haití|Ouest|Carrefour"),
    ("Pacific Asia", "South Asia", .039, .15, "India|Delhi|Delhi; Pakistán|Punyab|Lahore; "
     "Bangladés|Daca|Daca"),
    ("USCA", "East of USA", .039, .0, "Estados Unidos|Nueva York|New York City|10024; "
     "Estados Unidos|Pensilvania|Philadelphia|19140; Estados Unidos|Ohio|Columbus|43207"),
    ("USCA", "US Center ", .034, .0, "Estados Unidos|Illinois|Chicago|60623; "
     "Estados Unidos|Texas|Houston|77036; Estados Unidos|Michigan|Detroit|48235"),
    ("Pacific Asia", "West Asia", .033, .10, "Turquía|Estambul|Estambul; Turquía|Izmir|Izmir; "
     "Irak|Bagdad|Bagdad"),
    ("USCA", "South of  USA ", .023, .0, "Estados Unidos|Carolina del Norte|Charlotte|28205; "
     "Estados Unidos|Florida|Jacksonville|32210"),
    ("Europe", "Eastern Europe", .021, .15, "Rusia|Bashkortostán|Ufa; "
     "República Checa|Praga|Praga"),
    ("Africa", "West Africa", .021, .0, "Nigeria|Lagos|Lagos; Nigeria|Kano|Kano; "
     "Costa de Marfil|Lagunes|Abidjan"),
    ("Africa", "North Africa", .015, -.10, "Egipto|El Cairo|Cairo; "
     "Marruecos|Gran Casablanca|Casablanca"),
    ("Africa", "East Africa", .012, .10, "Kenia|Nairobi|Nairobi; "
     "Tanzania|Dar es Salaam|Dar es Salaam"),
    ("Africa", "Central Africa", .011, .10, "República Democrática del Congo|Kinshasa|Kinshasa; "
     "Angola|Luanda|Luanda"),
    ("Africa", "Southern Africa", .007, -.10, "SudAfrica|Gauteng|Johannesburg; "
     "SudAfrica|Cabo Occidental|Cape Town"),
    ("USCA", "Canada", .006, -.10, "Canada|Ontario|Toronto; Canada|Alberta|Calgary"),
    ("Pacific Asia", "Central Asia", .003, .15, "Kirguistán|Bishkek|Bishkek; "
     "Kazajistán|Almaty|Almaty"),
]  # fmt: skip
# Standard / Second Class take 2..6 days with these cumulative shares (zero effects): the real
# marginal is close to uniform; 4 days, on time for Standard Class, is 21.8% of COMPLETE orders.
_DAY_QUANTILES = [0.2, 0.39, 0.61, 0.8]
# Month 1..12 -> delay propensity: peak season November to January, quieter summer.
_SEASON_EFFECT = np.array([.3, .1, 0, 0, 0, -.15, -.2, -.15, 0, 0, .2, .35])

# (card id, name, category id, category, department id, department, price, rows in the sample):
# the 18 commonest products of the real sample (names are truncated to 45 characters there).
_PRODUCTS = [
    (403, "Nike Men's CJ Elite 2 TD Football Cleat", 18, "Men's Footwear", 4, "Apparel",
     129.99, 765),
    (365, "Perfect Fitness Perfect Rip Deck", 17, "Cleats", 4, "Apparel", 59.99, 747),
    (502, "Nike Men's Dri-FIT Victory Golf Polo", 24, "Women's Apparel", 5, "Golf", 50.0, 695),
    (1014, "O'Brien Men's Neoprene Life Vest", 46, "Indoor/Outdoor Games", 7, "Fan Shop",
     49.98, 632),
    (1004, "Field & Stream Sportsman 16 Gun Fire Safe", 45, "Fishing", 7, "Fan Shop",
     399.98, 597),
    (1073, "Pelican Sunstream 100 Kayak", 48, "Water Sports", 7, "Fan Shop", 199.99, 537),
    (957, "Diamondback Women's Serene Classic Comfort Bi", 43, "Camping & Hiking", 7, "Fan Shop",
     299.98, 481),
    (191, "Nike Men's Free 5.0+ Running Shoe", 9, "Cardio Equipment", 3, "Footwear", 99.99, 405),
    (627, "Under Armour Girls' Toddler Spine Surge Runni", 29, "Shop By Sport", 5, "Golf",
     39.99, 345),
    (1350, "Children's heaters", 63, "Children's Clothing", 4, "Apparel", 357.1, 29),
    (1362, "Fighting video games", 75, "Video Games", 9, "Discs Shop", 39.75, 21),
    (1363, "Summer dresses", 76, "Women's Clothing", 4, "Apparel", 215.82, 20),
    (1352, "Industrial consumer electronics", 65, "Consumer Electronics", 10, "Technology",
     252.88, 19),
    (1361, "Toys ", 74, "Toys", 7, "Fan Shop", 11.54, 19),
    (116, "Nike Men's Comfort 2 Slide", 6, "Tennis & Racquet", 2, "Fitness", 44.99, 18),
    (1349, "Web Camera", 62, "Cameras ", 10, "Technology", 452.04, 17),
    (1351, "Dell Laptop", 64, "Computers", 10, "Technology", 1500.0, 16),
    (775, "Clicgear 8.0 Shoe Brush", 35, "Golf Gloves", 6, "Outdoors", 9.99, 14),
]  # fmt: skip
# Customer (store) cities: (city, state, zip, latitude, longitude, share of customers).
_CUSTOMER_CITIES = [
    ("Caguas", "PR", 725, 18.254, -66.370, .367),
    ("Bayamon", "PR", 957, 18.380, -66.183, .01),
    ("San Juan", "PR", 921, 18.400, -66.060, .01),
    ("Los Angeles", "CA", 90023, 33.984, -118.210, .05),
    ("San Diego", "CA", 92115, 32.854, -117.186, .04),
    ("Brooklyn", "NY", 11218, 40.654, -73.947, .05),
    ("New York", "NY", 10031, 40.802, -73.960, .04),
    ("Chicago", "IL", 60629, 41.776, -87.711, .045),
    ("Philadelphia", "PA", 19134, 39.993, -75.112, .03),
    ("Houston", "TX", 77036, 29.700, -95.530, .03),
    ("San Benito", "TX", 78586, 26.131, -97.668, .02),
    ("Fort Lauderdale", "FL", 33324, 26.098, -80.271, .03),
    ("Orlando", "FL", 32825, 28.556, -81.276, .03),
    ("Washington", "DC", 20020, 38.876, -77.011, .025),
    ("New Orleans", "LA", 70117, 29.968, -90.038, .02),
    ("Jackson", "MI", 49201, 42.175, -84.385, .02),
    ("Denver", "CO", 80219, 39.697, -105.031, .02),
    ("Seattle", "WA", 98103, 47.673, -122.342, .02),
    ("Sacramento", "CA", 95823, 38.474, -121.446, .03),
    ("Columbus", "OH", 43207, 39.911, -82.964, .02),
]
_FIRST_NAMES = ["James", "Michael", "Robert", "John", "David", "William", "Joseph", "Christopher",
                "Matthew", "Elizabeth", "Richard", "Jennifer", "Patricia", "Linda", "Barbara"]
_LAST_NAMES = ["Williams", "Moore", "Wilson", "Jones", "Brown", "Wright", "Taylor", "Johnson",
               "Price", "Allen", "Martinez", "Garcia", "Miller", "Davis", "Lopez"]
_STREET_WORDS = (["Round", "Sunny", "Foggy", "Silver", "Golden", "Rustic", "Emerald", "Umber",
                  "Broad", "Hazy", "Grand", "Lost", "Stony", "Colonial", "High", "Cinder"],
                 ["Zephyr", "Arbor", "Acres", "Hills", "Treasure", "Forest", "Panda", "Prairie",
                  "Rabbit", "Lake", "Cider", "Fox", "Oak", "Butterfly", "Hollow", "Cotton"],
                 ["Ridge", "Avenue", "Pines", "Stead", "Run", "Wynd", "Common", "Townline",
                  "Pointe", "Row", "Heights", "Centre", "Corners", "Loop", "Glade", "Parkway"])
_FIRST_ORDER = np.datetime64("2015-01-01T00:00", "m")
_LATE_PERIOD = np.datetime64("2017-10-01T00:00", "m")  # volume drops to 40% from here on
_LAST_ORDER = np.datetime64("2018-02-01T00:00", "m")


def _text(values: list[str]) -> np.ndarray:
    """Python strings in an object array: pandas turns those into string columns fastest."""
    return np.array(values, dtype=object)


def _shares(weights: object) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    return w / w.sum()


def _order_times(rng: np.random.Generator, n: int) -> np.ndarray:
    """Order minutes in [2015-01, 2018-01], rate 1 before October 2017 and 0.4 after; sorted."""
    early = (_LATE_PERIOD - _FIRST_ORDER).astype(np.int64)
    late = (_LAST_ORDER - _LATE_PERIOD).astype(np.int64)
    in_late = rng.random(n) < 0.4 * late / (early + 0.4 * late)
    offset = np.where(in_late, early + rng.integers(0, late, n), rng.integers(0, early, n))
    return np.sort(_FIRST_ORDER + offset.astype("timedelta64[m]"))


def _real_days(
    rng: np.random.Generator, mode: np.ndarray, propensity: np.ndarray, order_time: np.ndarray
) -> np.ndarray:
    """Real shipping days per order (see :func:`make_dataco_like`, steps 3-4)."""
    extra = (rng.standard_normal(len(mode)) + propensity)[:, None] > ndtri(_DAY_QUANTILES)
    real = 2 + extra.sum(axis=1)  # Standard and Second Class: 2..6 days
    real[mode == 2] = 2  # First Class
    same_day = mode == 3  # dispatched 12 h after the order: next calendar day from noon on
    hour = (order_time - order_time.astype("datetime64[D]")).astype("timedelta64[h]").astype(int)
    real[same_day] = (hour[same_day] >= 12).astype(np.int64)
    return real.astype(np.int64)


def _customers(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    city = rng.choice(len(_CUSTOMER_CITIES), n, p=_shares([c[5] for c in _CUSTOMER_CITIES]))
    table = np.array([c[:5] for c in _CUSTOMER_CITIES], dtype=object)[city]
    mary_smith = (city == 0) & (rng.random(n) < 0.97)  # the real data's anonymised Caguas rows
    words = [np.asarray(w)[rng.integers(0, len(w), n)] for w in _STREET_WORDS]
    number = rng.integers(1, 10000, n).astype(str)
    n_words = rng.integers(2, 4, n)  # "Lost Hollow" or "Round Zephyr Ridge"
    street = np.char.add(np.char.add(number, " "), words[0])
    street = np.where(n_words == 3, np.char.add(np.char.add(street, " "), words[1]), street)
    return {
        "id": rng.permutation(max(n, 20757))[:n] + 1,
        "segment": rng.choice(list(_SEGMENTS), n, p=_shares(list(_SEGMENTS.values()))),
        "fname": np.where(mary_smith, "Mary", _text(_FIRST_NAMES)[rng.integers(0, 15, n)]),
        "lname": np.where(mary_smith, "Smith", _text(_LAST_NAMES)[rng.integers(0, 15, n)]),
        "city": table[:, 0],
        "state": table[:, 1],
        "country": _text(["EE. UU.", "Puerto Rico"])[(table[:, 1] == "PR").astype(int)],
        "zip": table[:, 2].astype(np.float64),
        "lat": table[:, 3].astype(np.float64) + rng.normal(0, 0.03, n),
        "lon": table[:, 4].astype(np.float64) + rng.normal(0, 0.03, n),
        "street": np.char.add(np.char.add(street, " "), words[2]).astype(object),
    }


def make_dataco_like(n_rows: int, seed: int, *, parse_dates: bool = True) -> pd.DataFrame:
    """A synthetic table with the DataCo columns, dtypes, value sets and identities.

    Generative process (shares and rules measured on the real 6,000-row sample):

    1. Orders of 1-5 items (mean 2.75) placed at uniformly random minutes from 2015-01-01 to
       2018-01-31 (40% of the rate from October 2017, as in the data); ``Order Id`` and
       ``Order Item Id`` rise with the order date. Items of one order share its customer,
       status, payment type, destination, shipping mode, dates and delivery days.
    2. ``Order Status`` with the real shares; it fixes ``Type`` (COMPLETE and ON_HOLD are
       DEBIT, CLOSED is CASH, ...). Destination: ``Market`` -> ``Order Region`` -> a city with
       the real shares. ``Shipping Mode``: Standard 59%, Second 20%, First 15.7%, Same Day 5.3%,
       independent of everything else; it fixes the scheduled days (4, 2, 1, 0).
    3. Real days: Standard and Second Class take ``2 + k`` days, ``k = #{q : z > q}`` for the
       standard-normal quantiles ``q`` of 0.2, 0.39, 0.61, 0.8 and ``z = market effect +
       region effect + season effect(order month) + N(0, 1)``; with zero effects ``k`` is
       nearly uniform on 0..4, as in the data (4 days, on time for Standard Class, 22%).
       Effects, in noise standard deviations: USCA -0.3, Europe -0.2, Pacific Asia +0.1,
       LATAM +0.2, Africa +0.25, each region -0.1 to +0.15 on top; November to January +0.2
       to +0.35, June to August -0.15 to -0.2. First Class always takes 2 days (always late,
       as in the data). Same Day ships 12 hours after the order: 0 calendar days before
       noon, 1 from noon on.
    4. Identities of the real data: shipping date = order date + real days (same clock time;
       Same Day + 12 h), so the calendar-day difference is the real days;
       ``Delivery Status`` = sign(real - scheduled) ('Advance shipping', 'Shipping on time',
       'Late delivery'), 'Shipping canceled' for CANCELED and SUSPECTED_FRAUD orders;
       ``Late_delivery_risk`` = 1 exactly for 'Late delivery'.
    5. Items: a product from 18 real products (their real shares, ids, categories,
       departments, prices); quantity 1 for items of $100 or more, else 1-5;
       ``Sales = price * quantity``; discount rate from the 18 real rates,
       ``Order Item Discount = Sales * rate``; ``Order Item Total = Sales - discount``
       = ``Sales per customer``; profit ratio 80% uniform on 0..0.5, 20% negative (exponential,
       down to -2.75); ``Order Profit Per Order = Total * ratio`` = ``Benefit per order``;
       duplicated ids (``Product Card Id = Order Item Cardprod Id``, ``Category Id = Product
       Category Id``, ``Customer Id = Order Customer Id``) and prices agree.
    6. Customers: one per 8.7 rows, 37% in Caguas, PR (nearly all "Mary Smith", as in the
       anonymised data), the rest in 19 US cities; the store coordinates (``Latitude``,
       ``Longitude``) lie near the customer's city. E-mail and password are ``XXXXXXXXX``,
       ``Product Description`` is empty, ``Product Status`` 0, ``Order Zipcode`` only for US
       destinations.

    Under :func:`~assd_repro.data.dataco.paper_protocol` a logistic regression reaches about
    85% test accuracy, as on the real sample; under the leak-free protocol about 60%.
    All draws are vectorised (180,000 rows take about a second).

    Args:
        n_rows: number of rows (order items), at least 1.
        seed: seed of ``numpy.random.default_rng``; same seed and size, same table.
        parse_dates: dates as ``datetime64`` like :func:`~assd_repro.data.dataco.load_dataco`
            (default), or ``False`` for strings like ``1/31/2018 22:56`` as in the file.

    Returns:
        Frame of shape ``(n_rows, 53)``, columns :data:`~assd_repro.data.dataco.DATACO_COLUMNS`,
        with the dtypes :func:`~assd_repro.data.dataco.load_dataco` gives the real file.

    Raises:
        ValueError: ``n_rows`` is not a whole number >= 1 (a float such as ``1e4`` included:
            pass ``10_000``).
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, int | np.integer) or n_rows < 1:
        raise ValueError(f"n_rows={n_rows!r} must be a whole number >= 1 (rows of the table)")
    rng = np.random.default_rng(seed)
    n_orders = int(n_rows / 2.75 * 1.2) + 5
    n_items = rng.choice(np.arange(1, 6), n_orders, p=_ITEMS_PER_ORDER)
    order_of_row = np.repeat(np.arange(n_orders), n_items)[:n_rows]
    n_orders = int(order_of_row[-1]) + 1

    # Order-level draws (steps 1-4).
    order_time = _order_times(rng, n_orders)
    statuses = list(_STATUSES)
    status = rng.choice(len(statuses), n_orders, p=_shares([v[0] for v in _STATUSES.values()]))
    region = rng.choice(len(_REGIONS), n_orders, p=_shares([r[2] for r in _REGIONS]))
    places = [[(*f"{d}|0".split("|")[:4], r[0], r[1]) for d in r[4].split("; ")] for r in _REGIONS]
    n_dest = np.array([len(p) for p in places])
    dest_idx = (rng.random(n_orders) * n_dest[region]).astype(np.int64)
    dests = np.array([d for p in places for d in p], dtype=object)
    dest = dests[np.concatenate([[0], np.cumsum(n_dest)[:-1]])[region] + dest_idx]
    modes = list(DATACO_SHIPPING_MODES)
    mode = rng.choice(4, n_orders, p=_shares([v[0] for v in DATACO_SHIPPING_MODES.values()]))
    month = order_time.astype("datetime64[M]").astype(np.int64) % 12
    propensity = (
        np.array([_MARKET_EFFECT[r[0]] + r[3] for r in _REGIONS])[region] + _SEASON_EFFECT[month]
    )
    real = _real_days(rng, mode, propensity, order_time)
    scheduled = np.array([v[1] for v in DATACO_SHIPPING_MODES.values()])[mode]
    ship_time = np.where(
        mode == 3,
        order_time + np.timedelta64(12 * 60, "m"),
        order_time + (real * 24 * 60).astype("timedelta64[m]"),
    )
    cancelled = np.isin(_text(statuses)[status], _CANCELLED)
    sign = np.sign(real - scheduled)
    delivery = _text(["Advance shipping", "Shipping on time", "Late delivery"])[sign + 1]
    delivery[cancelled] = "Shipping canceled"
    n_customers = max(1, round(n_rows / 8.7))
    cust = _customers(rng, n_customers)
    customer = rng.integers(0, n_customers, n_orders)

    # Item-level draws (step 5).
    product = rng.choice(len(_PRODUCTS), n_rows, p=_shares([p[7] for p in _PRODUCTS]))
    prod = np.array([p[:7] for p in _PRODUCTS], dtype=object)[product]
    price = prod[:, 6].astype(np.float64)
    quantity = np.where(price >= 100, 1, rng.choice(np.arange(1, 6), n_rows, p=_SMALL_QUANTITY))
    sales = np.round(price * quantity, 2)
    rate = rng.choice(_DISCOUNT_RATES, n_rows)
    discount = np.round(sales * rate, 2)
    total = np.round(sales - discount, 2)
    loss = -np.minimum(np.round(rng.exponential(0.45, n_rows) + 0.01, 2), 2.75)
    ratio = np.where(rng.random(n_rows) < 0.8, rng.integers(0, 51, n_rows) / 100, loss)
    profit = np.round(total * ratio, 2)

    o, c = order_of_row, customer[order_of_row]
    ship = pd.Series(ship_time[o].astype("datetime64[us]"))
    placed = pd.Series(order_time[o].astype("datetime64[us]"))
    is_us = dest[o, 0] == "Estados Unidos"
    columns = {
        "Type": _text([v[1] for v in _STATUSES.values()])[status][o],
        "Days for shipping (real)": real[o],
        "Days for shipment (scheduled)": scheduled[o],
        "Benefit per order": profit,
        "Sales per customer": total,
        "Delivery Status": delivery[o],
        "Late_delivery_risk": ((sign > 0) & ~cancelled).astype(np.int64)[o],
        "Category Id": prod[:, 2].astype(np.int64),
        "Category Name": prod[:, 3],
        "Customer City": cust["city"][c],
        "Customer Country": cust["country"][c],
        "Customer Email": np.full(n_rows, "XXXXXXXXX", dtype=object),
        "Customer Fname": cust["fname"][c],
        "Customer Id": cust["id"][c].astype(np.int64),
        "Customer Lname": cust["lname"][c],
        "Customer Password": np.full(n_rows, "XXXXXXXXX", dtype=object),
        "Customer Segment": cust["segment"][c],
        "Customer State": cust["state"][c],
        "Customer Street": cust["street"][c],
        "Customer Zipcode": cust["zip"][c],
        "Department Id": prod[:, 4].astype(np.int64),
        "Department Name": prod[:, 5],
        "Latitude": cust["lat"][c],
        "Longitude": cust["lon"][c],
        "Market": dest[o, 4],
        "Order City": dest[o, 2],
        "Order Country": dest[o, 0],
        "Order Customer Id": cust["id"][c].astype(np.int64),
        "order date (DateOrders)": placed,
        "Order Id": (o + 1).astype(np.int64),
        "Order Item Cardprod Id": prod[:, 0].astype(np.int64),
        "Order Item Discount": discount,
        "Order Item Discount Rate": rate,
        "Order Item Id": np.arange(1, n_rows + 1, dtype=np.int64),
        "Order Item Product Price": price,
        "Order Item Profit Ratio": ratio,
        "Order Item Quantity": quantity.astype(np.int64),
        "Sales": sales,
        "Order Item Total": total,
        "Order Profit Per Order": profit,
        "Order Region": dest[o, 5],
        "Order State": dest[o, 1],
        "Order Status": _text(statuses)[status][o],
        "Order Zipcode": np.where(is_us, dest[o, 3].astype(np.float64), np.nan),
        "Product Card Id": prod[:, 0].astype(np.int64),
        "Product Category Id": prod[:, 2].astype(np.int64),
        "Product Description": np.full(n_rows, np.nan),
        "Product Image": _text(
            ["http://images.acmesports.sports/" + quote_plus(p[1]) for p in _PRODUCTS]
        )[product],
        "Product Name": prod[:, 1],
        "Product Price": price,
        "Product Status": np.zeros(n_rows, dtype=np.int64),
        "shipping date (DateOrders)": ship,
        "Shipping Mode": _text(modes)[mode][o],
    }
    frame = pd.DataFrame(columns)[list(DATACO_COLUMNS)]
    if not parse_dates:
        for col in DATACO_DATE_COLUMNS:
            frame[col] = format_dataco_dates(frame[col])
    return frame
