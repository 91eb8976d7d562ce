"""Place names in the source files: ISO 3166-1 alpha-2 countries, AWS location names."""

from __future__ import annotations

from .common import BuildError

#: Country or place names in the source files -> ISO 3166-1 alpha-2.
COUNTRY_CODES: dict[str, str] = {
    # countries
    "Australia": "AU",
    "Bahrain": "BH",
    "Belgium": "BE",
    "Brazil": "BR",
    "Canada": "CA",
    "China": "CN",
    "England": "GB",
    "Finland": "FI",
    "France": "FR",
    "Germany": "DE",
    "Hong Kong": "HK",
    "India": "IN",
    "Indonesia": "ID",
    "Ireland": "IE",
    "Italy": "IT",
    "Japan": "JP",
    "Mexico": "MX",
    "Netherlands": "NL",
    "Singapore": "SG",
    "South Africa": "ZA",
    "South Korea": "KR",
    "Sweden": "SE",
    "Switzerland": "CH",
    "Taiwan": "TW",
    "United States": "US",
    # US states and places
    "Arizona": "US",
    "California": "US",
    "Columbus": "US",
    "Dallas": "US",
    "Georgia": "US",
    "Illinois": "US",
    "Iowa": "US",
    "Las Vegas": "US",
    "Los Angeles": "US",
    "Northern Virginia": "US",
    "Oklahoma": "US",
    "Oregon": "US",
    "Salt Lake City": "US",
    "South Carolina": "US",
    "Texas": "US",
    "Virginia": "US",
    "Washington": "US",
    "Wyoming": "US",
    # other cities
    "Berlin": "DE",
    "Brussels": "BE",
    "Cardiff": "GB",
    "Chennai": "IN",
    "Dammam": "SA",
    "Delhi": "IN",
    "Doha": "QA",
    "Eemshaven": "NL",
    "Frankfurt": "DE",
    "Gavle": "SE",
    "Helsinki": "FI",
    "Jakarta": "ID",
    "Johannesburg": "ZA",
    "London": "GB",
    "Madrid": "ES",
    "Melbourne": "AU",
    "Milan": "IT",
    "Montréal": "CA",
    "Mumbai": "IN",
    "Osaka": "JP",
    "Paris": "FR",
    "Pune": "IN",
    "Santiago": "CL",
    "Seoul": "KR",
    "Stockholm": "SE",
    "Sydney": "AU",
    "São Paulo": "BR",
    "Tel Aviv": "IL",
    "Tokyo": "JP",
    "Toronto": "CA",
    "Turin": "IT",
    "Warsaw": "PL",
    "Zürich": "CH",
}

#: AWS region code -> AWS's location name (as AWS names its regions).
AWS_LOCATIONS: dict[str, str] = {
    "us-east-1": "N. Virginia",
    "us-east-2": "Ohio",
    "us-west-1": "N. California",
    "us-west-2": "Oregon",
    "us-gov-east-1": "GovCloud US-East",
    "us-gov-west-1": "GovCloud US-West",
    "af-south-1": "Cape Town",
    "ap-east-1": "Hong Kong",
    "ap-south-1": "Mumbai",
    "ap-northeast-3": "Osaka",
    "ap-northeast-2": "Seoul",
    "ap-southeast-1": "Singapore",
    "ap-southeast-2": "Sydney",
    "ap-northeast-1": "Tokyo",
    "ca-central-1": "Canada Central",
    "cn-north-1": "Beijing",
    "cn-northwest-1": "Ningxia",
    "eu-central-1": "Frankfurt",
    "eu-west-1": "Ireland",
    "eu-west-2": "London",
    "eu-south-1": "Milan",
    "eu-west-3": "Paris",
    "eu-north-1": "Stockholm",
    "me-south-1": "Bahrain",
    "sa-east-1": "São Paulo",
}

#: Spelling fixes for place names in the source files.
PLACE_FIXES: dict[str, str] = {
    "S\u0101o Paulo": "S\u00e3o Paulo",  # Google's 2024 file has a macron a, not a tilde
}


def _country(place: str, where: str) -> str:
    try:
        return COUNTRY_CODES[place]
    except KeyError:
        raise BuildError(f"{where}: no ISO country code for {place!r}; add it") from None
