"""The controlled vocabularies consent is expressed in: purposes and personal-data attributes.

An official can only ask for an attribute named here, for a purpose named here (anything else is a
422), so every consent a citizen gives reads as a sentence they were shown in plain words, in
English and Azerbaijani. Each concept names the nearest W3C Data Privacy Vocabulary concept (DPV 2,
https://w3id.org/dpv, and its personal-data extension DPV-PD, https://w3id.org/dpv/pd) so receipts
and exports can be read by tools that speak DPV; the civic terms are narrower than the DPV ones
(e.g. "statistics for a consultation" is one kind of dpv:ResearchAndDevelopment).

The legal basis is always consent (dpv:Consent; GDPR Art. 6(1)(a)): everything here is voluntary,
and taking part in consultations, points, badges and levels never depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from civic.errors import InvalidInput
from civic.i18n import _, current_locale

DPV = "https://w3id.org/dpv#"
PD = "https://w3id.org/dpv/pd#"
LEGAL_BASIS = {
    "id": "consent",
    "dpv": f"{DPV}Consent",
    "text": "Consent of the data subject (GDPR Art. 6(1)(a)); refusing or withdrawing it costs nothing.",
    "text_az": "Məlumat sahibinin razılığı; imtina etmək və ya razılığı geri götürmək heç nəyə təsir etmir.",
}


def in_reader_language(english: str, azerbaijani: str) -> str:
    """The vocabulary's own wording for the reader's language (it carries both, so the catalogs
    need not repeat it): Azerbaijani when the request speaks it, English otherwise."""
    return azerbaijani if current_locale() == "az" and azerbaijani else english


@dataclass(frozen=True)
class Purpose:
    id: str
    dpv: str  # the nearest DPV purpose concept (an IRI)
    label: str
    label_az: str
    text: str  # what the citizen is told, in plain words
    text_az: str

    @property
    def local_label(self) -> str:
        return in_reader_language(self.label, self.label_az)

    @property
    def local_text(self) -> str:
        return in_reader_language(self.text, self.text_az)


PURPOSES: dict[str, Purpose] = {
    p.id: p
    for p in (
        Purpose(
            "service_provision",
            f"{DPV}ServiceProvision",
            "Providing a public service",
            "Dövlət xidmətinin göstərilməsi",
            "The agency uses this information to provide a service you asked for.",
            "Qurum bu məlumatdan sizin istədiyiniz xidməti göstərmək üçün istifadə edir.",
        ),
        Purpose(
            "contact_about_proposal",
            f"{DPV}CommunicationManagement",
            "Contacting you about your proposal",
            "Təklifinizlə bağlı sizinlə əlaqə",
            "The agency may write to you or call you about a proposal you made, and for nothing else.",
            "Qurum yalnız verdiyiniz təkliflə bağlı sizə yaza və ya zəng edə bilər.",
        ),
        Purpose(
            "consultation_statistics",
            f"{DPV}ResearchAndDevelopment",
            "Statistics about a consultation",
            "Müzakirə üzrə statistika",
            "Counted with other people's answers to describe who took part in a consultation. Groups "
            "of fewer than five people are never shown, and nobody sees your own answers.",
            "Müzakirədə kimin iştirak etdiyini göstərmək üçün başqalarının cavabları ilə birlikdə "
            "sayılır. Beş nəfərdən az qruplar heç vaxt göstərilmir və sizin cavablarınızı heç kim görmür.",
        ),
        Purpose(
            "research",
            f"{DPV}NonCommercialResearch",
            "Public research",
            "İctimai tədqiqat",
            "Used in non-commercial research by the agency to improve public policy.",
            "Qurumun dövlət siyasətini yaxşılaşdırmaq üçün apardığı qeyri-kommersiya tədqiqatında istifadə olunur.",
        ),
    )
}


class Kind(StrEnum):
    CHOICE = "choice"  # one of `choices` (what aggregates can count)
    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"


@dataclass(frozen=True)
class Attribute:
    id: str
    dpv: str  # the nearest DPV-PD personal-data category
    label: str
    label_az: str
    kind: Kind
    choices: tuple[tuple[str, str, str], ...] = ()  # (value, English, Azerbaijani)
    statistical: bool = False  # counted in a consultation's demographic profile

    @property
    def local_label(self) -> str:
        return in_reader_language(self.label, self.label_az)

    @property
    def local_choices(self) -> list[tuple[str, str]]:
        """(value, label in the reader's language) for each choice."""
        return [(value, in_reader_language(en, az)) for value, en, az in self.choices]


ATTRIBUTES: dict[str, Attribute] = {
    a.id: a
    for a in (
        Attribute("district", f"{PD}Location", "District", "Rayon", Kind.TEXT, statistical=True),
        Attribute(
            "age_band",
            f"{PD}AgeRange",
            "Age band",
            "Yaş qrupu",
            Kind.CHOICE,
            (
                ("under_18", "Under 18", "18-dən aşağı"),
                ("18_24", "18–24", "18–24"),
                ("25_34", "25–34", "25–34"),
                ("35_44", "35–44", "35–44"),
                ("45_54", "45–54", "45–54"),
                ("55_64", "55–64", "55–64"),
                ("65_plus", "65 or older", "65 və yuxarı"),
            ),
            statistical=True,
        ),
        Attribute(
            "gender",
            f"{PD}Gender",
            "Gender",
            "Cins",
            Kind.CHOICE,
            (("female", "Female", "Qadın"), ("male", "Male", "Kişi"), ("other", "Another", "Digər")),
            statistical=True,
        ),
        Attribute(
            "occupation",
            f"{PD}Job",
            "Occupation",
            "Məşğuliyyət",
            Kind.CHOICE,
            (
                ("student", "Student", "Tələbə"),
                ("employed", "Employed", "İşləyir"),
                ("self_employed", "Self-employed", "Özünüməşğul"),
                ("unemployed", "Looking for work", "İş axtarır"),
                ("retired", "Retired", "Təqaüdçü"),
                ("homemaker", "Looking after home or family", "Ev və ailə ilə məşğul"),
                ("other", "Other", "Digər"),
            ),
            statistical=True,
        ),
        Attribute(
            "education",
            f"{PD}EducationQualification",
            "Education",
            "Təhsil",
            Kind.CHOICE,
            (
                ("primary", "Primary", "İbtidai"),
                ("secondary", "Secondary", "Orta"),
                ("vocational", "Vocational", "Peşə"),
                ("bachelor", "Bachelor's degree", "Bakalavr"),
                ("master", "Master's degree", "Magistr"),
                ("doctorate", "Doctorate", "Doktorantura"),
            ),
            statistical=True,
        ),
        Attribute("contact_email", f"{PD}EmailAddress", "Contact e-mail", "Əlaqə e-poçtu", Kind.EMAIL),
        Attribute("contact_phone", f"{PD}TelephoneNumber", "Contact phone", "Əlaqə telefonu", Kind.PHONE),
    )
}

STATISTICS = "consultation_statistics"


def purpose(purpose_id: str, *, field: str = "purpose") -> Purpose:
    found = PURPOSES.get(purpose_id)
    if found is None:
        raise InvalidInput(
            _("That purpose is not in the vocabulary."),
            {field: _("Choose one of: %(terms)s.", terms=", ".join(PURPOSES))},
            code="unknown_purpose",
        )
    return found


def attribute_names(names: list[str], *, field: str = "attributes") -> list[str]:
    """The attributes, checked against the vocabulary, without repeats, in the vocabulary's order."""
    unknown = sorted({n for n in names if n not in ATTRIBUTES})
    if unknown:
        raise InvalidInput(
            _("Not in the vocabulary: %(names)s.", names=", ".join(unknown)),
            {field: _("Choose from: %(terms)s.", terms=", ".join(ATTRIBUTES))},
            code="unknown_attribute",
        )
    if not names:
        raise InvalidInput(_("Name at least one attribute."), {field: _("Choose at least one.")})
    wanted = set(names)
    return [a for a in ATTRIBUTES if a in wanted]


def choice_label(attribute: str, value: str) -> str:
    """The label of a choice value in the reader's language (the value itself for free text)."""
    for choice, label in ATTRIBUTES[attribute].local_choices:
        if choice == value:
            return label
    return value
