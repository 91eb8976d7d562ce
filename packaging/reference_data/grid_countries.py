"""Grid factors of countries and the world (Ember via Our World in Data), gCO2/kWh."""

from __future__ import annotations

from pathlib import Path

from .common import BuildError, _dec, _fmt, _read_csv
from .tables import GRID_COLUMNS, _row

#: Countries: ISO 3166-1 alpha-3 (as Our World in Data gives them) -> alpha-2.
_ISO3_TO_ISO2 = """
ABW AW AFG AF AGO AO ALB AL ARE AE ARG AR ARM AM ASM AS ATG AG AUS AU AUT AT AZE AZ
BDI BI BEL BE BEN BJ BFA BF BGD BD BGR BG BHR BH BHS BS BIH BA BLR BY BLZ BZ BMU BM
BOL BO BRA BR BRB BB BRN BN BTN BT BWA BW CAF CF CAN CA CHE CH CHL CL CHN CN CIV CI
CMR CM COD CD COG CG COK CK COL CO COM KM CPV CV CRI CR CUB CU CYM KY CYP CY CZE CZ
DEU DE DJI DJ DMA DM DNK DK DOM DO DZA DZ ECU EC EGY EG ERI ER ESH EH ESP ES EST EE
ETH ET FIN FI FJI FJ FLK FK FRA FR FRO FO GAB GA GBR GB GEO GE GHA GH GIB GI GIN GN
GLP GP GMB GM GNB GW GNQ GQ GRC GR GRD GD GRL GL GTM GT GUF GF GUM GU GUY GY HKG HK
HND HN HRV HR HTI HT HUN HU IDN ID IND IN IRL IE IRN IR IRQ IQ ISL IS ISR IL ITA IT
JAM JM JOR JO JPN JP KAZ KZ KEN KE KGZ KG KHM KH KIR KI KNA KN KOR KR KWT KW LAO LA
LBN LB LBR LR LBY LY LCA LC LKA LK LSO LS LTU LT LUX LU LVA LV MAC MO MAR MA MDA MD
MDG MG MDV MV MEX MX MKD MK MLI ML MLT MT MMR MM MNE ME MNG MN MOZ MZ MRT MR MSR MS
MTQ MQ MUS MU MWI MW MYS MY NAM NA NCL NC NER NE NGA NG NIC NI NLD NL NOR NO NPL NP
NRU NR NZL NZ OMN OM PAK PK PAN PA PER PE PHL PH PNG PG POL PL PRI PR PRK KP PRT PT
PRY PY PSE PS PYF PF QAT QA REU RE ROU RO RUS RU RWA RW SAU SA SDN SD SEN SN SGP SG
SHN SH SLB SB SLE SL SLV SV SOM SO SPM PM SRB RS SSD SS STP ST SUR SR SVK SK SVN SI
SWE SE SWZ SZ SYC SC SYR SY TCA TC TCD TD TGO TG THA TH TJK TJ TKM TM TLS TL TON TO
TTO TT TUN TN TUR TR TWN TW TZA TZ UGA UG UKR UA URY UY USA US UZB UZ VCT VC VEN VE
VGB VG VIR VI VNM VN VUT VU WSM WS YEM YE ZAF ZA ZMB ZM ZWE ZW
"""
ISO3_TO_ISO2 = dict(zip(_ISO3_TO_ISO2.split()[::2], _ISO3_TO_ISO2.split()[1::2], strict=True))
#: Our World in Data's own codes for rows without an ISO code.
OWID_CODES = {"OWID_WRL": "WORLD", "OWID_KOS": "XK"}
OWID = "Ember via Our World in Data"
OWID_COLUMN = "Carbon intensity of electricity - gCO2/kWh"
OWID_KOSOVO = "XK is not an ISO 3166-1 code; it is the user-assigned code in common use."


def owid_rows(shared: Path) -> list[dict[str, str]]:
    """Countries (ISO alpha-2) and the world, every year the file gives (gCO2/kWh)."""
    path = shared / "data" / "grid_intensity" / "owid_carbon_intensity_electricity.csv"
    rows = []
    for r in _read_csv(path):
        code = r["Code"]
        if not code:
            continue  # regional aggregates (Africa, EU, income groups, ...) are not shipped
        zone = OWID_CODES.get(code) or ISO3_TO_ISO2.get(code)
        if zone is None:
            raise BuildError(f"{path.name}: no ISO alpha-2 code for {code!r}; add it")
        value = _dec(r[OWID_COLUMN], f"{path.name}, {r['Entity']} {r['Year']}")
        rows.append(
            _row(
                GRID_COLUMNS,
                zone=zone,
                zone_name=r["Entity"],
                kind="world" if zone == "WORLD" else "country",
                year=int(r["Year"]),
                g_per_kwh=_fmt(value),
                gas="CO2",
                source=OWID,
                licence="CC BY 4.0",
                notes=OWID_KOSOVO if zone == "XK" else "",
            )
        )
    return rows
