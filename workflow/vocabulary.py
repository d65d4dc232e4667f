"""The domain's fixed vocabulary: the OGP values and the seed's evaluation criteria, in both languages."""

from __future__ import annotations

from enum import StrEnum

from workflow.names import name_key


class OgpValue(StrEnum):
    """The OGP values a proposal may serve (the seed's third criterion)."""

    ACCESS_TO_INFORMATION = "access_to_information"
    ACCOUNTABILITY = "accountability"
    PUBLIC_PARTICIPATION = "public_participation"
    TECHNOLOGY_INNOVATION = "technology_innovation"


VALUE_NAMES_AR: dict[OgpValue, str] = {
    OgpValue.ACCESS_TO_INFORMATION: "إتاحة الوصول إلى المعلومات",
    OgpValue.ACCOUNTABILITY: "المساءلة",
    OgpValue.PUBLIC_PARTICIPATION: "المشاركة الشعبية",
    OgpValue.TECHNOLOGY_INNOVATION: "الانفتاح على التكنولوجيا والابتكار",
}
VALUE_NAMES_EN: dict[OgpValue, str] = {
    OgpValue.ACCESS_TO_INFORMATION: "Access to information",
    OgpValue.ACCOUNTABILITY: "Accountability",
    OgpValue.PUBLIC_PARTICIPATION: "Public participation",
    OgpValue.TECHNOLOGY_INNOVATION: "Technology and innovation",
}
# Spellings people actually type: the seed itself writes «المسائلة».
_VALUE_ALIASES: dict[str, OgpValue] = {
    "المسائلة": OgpValue.ACCOUNTABILITY,
    "الوصول إلى المعلومات": OgpValue.ACCESS_TO_INFORMATION,
    "التكنولوجيا والابتكار": OgpValue.TECHNOLOGY_INNOVATION,
    "المشاركة العامة": OgpValue.PUBLIC_PARTICIPATION,
}

# Who reports progress on a milestone: the government, or civil society beside it (never merged).
GOVERNMENT = "government"
CIVIL_SOCIETY = "civil-society"
SIDES = (GOVERNMENT, CIVIL_SOCIETY)

# The seed's five criteria, in its order: (code, Arabic, English).
SEED_CRITERIA: tuple[tuple[str, str, str], ...] = (
    ("importance", "أهمية الفكرة وكونها رائدة ومميزة", "The idea's importance; pioneering and distinctive"),
    ("global_trend", "انسجامها مع التوجه العالمي", "Alignment with the global trend"),
    (
        "ogp_values",
        "انسجامها مع قيم مبادرة شراكة الحكومات الشفافة",
        "Alignment with OGP values",
    ),
    (
        "national_priorities",
        "انسجامها مع الأولويات الاستراتيجية الوطنية",
        "Alignment with national strategic priorities",
    ),
    (
        "government_mandate",
        "فيما إذا كان الالتزام من ضمن صلاحيات عمل الحكومة",
        "Within the government's mandate",
    ),
)

_VALUE_LOOKUP: dict[str, OgpValue] = {}
for _value in OgpValue:
    for _name in (_value.value, VALUE_NAMES_AR[_value], VALUE_NAMES_EN[_value]):
        _VALUE_LOOKUP[name_key(_name)] = _value
for _name, _value in _VALUE_ALIASES.items():
    _VALUE_LOOKUP[name_key(_name)] = _value


def known_values() -> str:
    """The OGP values as a refusal lists them: each code with its Arabic name, as either is typed."""
    return ", ".join(f"{value.value} ({VALUE_NAMES_AR[value]})" for value in OgpValue)


def parse_value(text: str) -> OgpValue | None:
    """The OGP value `text` names (code, Arabic or English name), or None."""
    return _VALUE_LOOKUP.get(name_key(text.replace("-", "_")))


# How a letter addresses an official of each rank: (Arabic honorific, English honorific).
RANKS: dict[str, tuple[str, str]] = {
    "minister": ("معالي", "H.E."),  # ministers
    "secretary-general": ("عطوفة", "H.E."),  # secretaries general
    "director": ("عطوفة", ""),  # directors general and heads of departments
    "excellency": ("سعادة", "H.E."),  # ambassadors, deputies and other excellencies
}


def addressee_line(language: str, rank: str, title: str) -> str:
    """E.g. «معالي وزير الصحة المحترم» or «H.E. the Minister of Health»."""
    arabic, english = RANKS[rank]
    if language == "ar":
        return f"{arabic} {title} المحترم"
    return f"{english} {title}".strip()


def organisation_addressee(language: str, name: str) -> str:
    """How a letter addresses a body or organisation with no named official."""
    return f"السادة {name} المحترمين" if language == "ar" else name


# The working group's sectors (the seed's minutes list government and civil-society members).
SECTORS = ("government", "civil-society", "private")
# What `ogp export KIND` writes (workflow/exports.py builds each; tests check the two agree).
EXPORT_KINDS = ("proposals", "scores", "ranking", "responses", "register", "history")
# How many days a body has to answer a referral letter (`ogp init --reply-within`), and the most.
DEFAULT_REPLY_WITHIN = 30
MAX_REPLY_WITHIN = 365
