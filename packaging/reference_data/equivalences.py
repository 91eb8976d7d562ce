"""Everyday equivalences quoted in reports (smartphone charges, car km, flights, ...).

Fixed figures (low = high = central) in kWh or kgCO2e, as each row's unit says.
"""

from __future__ import annotations

from .common import GRAMS_PER_LB
from .sources import FIXED

LB_TO_KG = float(GRAMS_PER_LB) / 1000
GREEN_ALGORITHMS = "Green Algorithms (Lannelongue, Grealey, Inouye 2021)"
GA_NOTE = f"Year: the Green Algorithms paper; the methodology notes give none. {FIXED}"
GA_CHECK = ("US car per km 251 g, EU 175 g (Green Algorithms) [V]",)
STRUBELL = "Strubell, Ganesh, McCallum 2019 (Table 1)"
#: name, value, unit, what it is, source, year, notes, methodology checks
EQUIVALENCES = (
    (
        *("equiv:smartphone_charge_kwh", 0.022, "kWh per full charge", "one smartphone charge"),
        "US EPA greenhouse gas equivalencies (since Jan 2024), via Luccioni et al. 2024",
        *("2024", f"EPA used 0.012 kWh before 2024. {FIXED}"),
        ("Smartphone charge 0.022 kWh (EPA, since Jan 2024; 0.012 before)",),
    ),
    (
        *("equiv:car_km_kgco2e_eu", 0.175, "kgCO2e per km", "EU average passenger car, 1 km"),
        *(GREEN_ALGORITHMS, "2021", GA_NOTE, GA_CHECK),
    ),
    (
        *("equiv:car_km_kgco2e_us", 0.251, "kgCO2e per km", "US average passenger car, 1 km"),
        *(GREEN_ALGORITHMS, "2021", GA_NOTE, GA_CHECK),
    ),
    (
        *("equiv:car_lifetime_kgco2e", round(126_000 * LB_TO_KG, 1), "kgCO2e per car lifetime"),
        *("average car incl. fuel, one lifetime", STRUBELL, "2019"),
        f"126,000 lb x 0.45359237 kg/lb. {FIXED}",
        ("car lifetime incl. fuel 126,000 lb = 57.2 tCO2e (Strubell Table 1) [V]",),
    ),
    (
        *("equiv:home_electricity_year_kwh", 10791, "kWh per home and year"),
        "a US home's electricity use for a year",
        "US Energy Information Administration, FAQ 'How much electricity does an American "
        "home use?' (average residential utility customer, 2022)",
        "2022",
        f"10,791 kWh a year, about 899 kWh a month. Not in the methodology notes. {FIXED}",
        (),
    ),
    (
        *("equiv:flight_ny_sf_passenger_kgco2e", round(1984 * LB_TO_KG, 1)),
        *("kgCO2e per passenger", "one New York - San Francisco flight, one passenger"),
        *(STRUBELL, "2019", f"1,984 lb x 0.45359237 kg/lb. {FIXED}"),
        ("one NY-SF flight per passenger 1,984 lb [V]",),
    ),
)
