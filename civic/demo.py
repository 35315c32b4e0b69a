"""Believable demo data: the agency tree, officials in their roles, a few hundred e-citizens.

Idempotent: everything is keyed by a slug or an e-mail address and skipped when present, so
`civic demo` can run any number of times. Data goes through the same actions as real use, so the
demo also emits the events a real registration would. All demo accounts share one password
(printed by `civic demo`), hashed once: argon2id is slow on purpose, and hundreds of separate
hashes would only make the demo slow to start.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from civic.demo_leadership import LeadershipReport, load_leadership_demo
from civic.demo_participation import ParticipationReport, load_participation_demo
from civic.identity import actions as identity_actions
from civic.identity.models import Account, AccountKind, Agency, AgencyKind, Role, VerificationLevel
from civic.identity.schemas import Registration, VerificationRequest
from civic.runtime import Runtime

MINISTRY = "mddt"

# slug, parent slug, kind, English name, Azerbaijani name
AGENCIES: list[tuple[str, str | None, AgencyKind, str, str]] = [
    (
        MINISTRY,
        None,
        AgencyKind.MINISTRY,
        "Ministry of Digital Development and Transport",
        "Rəqəmsal İnkişaf və Nəqliyyat Nazirliyi",
    ),
    (
        "mddt-public-council",
        MINISTRY,
        AgencyKind.COUNCIL,
        "Public Council of the Ministry",
        "Nazirliyin İctimai Şurası",
    ),
    (
        "mddt-egov",
        MINISTRY,
        AgencyKind.DIRECTORATE,
        "Directorate of E-Government Services",
        "Elektron Hökumət Xidmətləri Departamenti",
    ),
    ("baku-transport", MINISTRY, AgencyKind.AGENCY, "Baku Transport Agency", "Bakı Nəqliyyat Agentliyi"),
    (
        "baku-transport-mobility",
        "baku-transport",
        AgencyKind.DIRECTORATE,
        "Directorate of Urban Mobility",
        "Şəhər Mobilliyi Departamenti",
    ),
    (
        "idda",
        MINISTRY,
        AgencyKind.AGENCY,
        "Innovation and Digital Development Agency",
        "İnnovasiya və Rəqəmsal İnkişaf Agentliyi",
    ),
    (
        "public-service",
        MINISTRY,
        AgencyKind.AGENCY,
        "State Agency for Public Service and Social Innovations",
        "Vətəndaşlara Xidmət və Sosial İnnovasiyalar üzrə Dövlət Agentliyi",
    ),
    (
        "public-service-centres",
        "public-service",
        AgencyKind.DIRECTORATE,
        "Directorate of Service Centres",
        "Xidmət Mərkəzləri Departamenti",
    ),
    (
        "public-service-council",
        "public-service",
        AgencyKind.COUNCIL,
        "Council for Social Innovation",
        "Sosial İnnovasiyalar Şurası",
    ),
]

# e-mail local part, display name, agency slug, roles
OFFICIALS: list[tuple[str, str, str, list[Role]]] = [
    ("admin", "Rəşad Məmmədov", MINISTRY, [Role.ADMINISTRATOR]),
    ("convener", "Leyla Hüseynova", "baku-transport", [Role.CONVENER, Role.RESPONDER]),
    ("moderator", "Elvin Quliyev", "baku-transport", [Role.MODERATOR]),
    ("moderator-2", "Günay Abbasova", "baku-transport", [Role.MODERATOR]),  # decides appeals against Elvin
    ("responder", "Nigar Əliyeva", "baku-transport", [Role.RESPONDER]),
    ("registrar", "Tural Həsənov", "public-service-centres", [Role.REGISTRAR]),
    ("analyst", "Səbinə İsmayılova", "idda", [Role.ANALYST]),
    ("egov-convener", "Kamran Rzayev", "mddt-egov", [Role.CONVENER, Role.MODERATOR, Role.RESPONDER]),
]
OFFICIAL_DOMAIN = "gov.demo.civic.az"

FIRST = [
    "Aysel",
    "Murad",
    "Günay",
    "Elnur",
    "Nərmin",
    "Orxan",
    "Sevinc",
    "Ramil",
    "Aynur",
    "Fərid",
    "Lalə",
    "Kənan",
    "Könül",
    "Vüsal",
    "Səidə",
    "Emin",
    "Zəhra",
    "Anar",
    "Ülviyyə",
    "Cavid",
    "Nurlan",
    "Aygün",
]
LAST = [
    "Məmmədov",
    "Əliyev",
    "Həsənov",
    "Hüseynov",
    "Quliyev",
    "İsmayılov",
    "Abbasov",
    "Cəfərov",
    "Rzayev",
    "Kərimov",
    "Nəsirov",
    "Süleymanov",
    "Bağırov",
    "Qasımov",
    "Orucov",
    "Vəliyev",
]
FOREIGN = [
    "Anna Petrova",
    "Mehmet Yılmaz",
    "Giorgi Beridze",
    "Sarah Collins",
    "Li Wei",
    "Olena Kovalenko",
    "Ahmet Demir",
    "Jonas Weber",
    "Maria Rossi",
    "Arman Sargsyan",
]
BUSINESSES = [
    "Xəzər Logistika MMC",
    "Bakı Velo Servis",
    "Gəncə Aqro MMC",
    "Sumqayıt Texnoparkı",
    "Nar Kafe",
    "Şirvan Tikinti",
    "Abşeron Taksi",
    "Qəbələ Turizm",
    "Lənkəran Çay",
    "Quba Alma Kooperativi",
]
NGOS = [
    "Yaşıl Bakı İctimai Birliyi",
    "Əlçatan Şəhər Təşəbbüsü",
    "Gənc Könüllülər Şəbəkəsi",
    "Şəffaflıq Naminə Vətəndaşlar",
    "Velosipedçilər Assosiasiyası",
    "Təhsil Üçün Birlik",
    "Ahıllara Dəstək Mərkəzi",
    "Rəqəmsal Hüquqlar Forumu",
]


@dataclass
class DemoReport:
    agencies: int = 0
    officials: int = 0
    citizens: int = 0
    verified: int = 0
    participation: ParticipationReport = field(default_factory=ParticipationReport)
    leadership: LeadershipReport = field(default_factory=LeadershipReport)


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    kind: AccountKind
    level: VerificationLevel  # what a registrar confirmed; UNVERIFIED for most
    district: str | None = None  # recorded by the registrar for individuals they verify


DISTRICTS = ["Yasamal", "Nasimi", "Sabail", "Narimanov", "Khatai", "Binagadi", "Nizami", "Sabunchu"]
BATCH_SIZE = 50  # accounts per transaction: short transactions, and progress to show


def _citizens(count: int) -> Iterator[DemoPerson]:
    """The same people, in the same order, every time: reruns find them by e-mail address.

    In every twenty: sixteen citizens, two foreign residents, a business and an NGO. The names of
    the last three are taken in turn by the twenty's number, so every organisation appears before
    any repeats. Two in five people visited a service centre (one in ten signed with an
    e-signature instead), and every other organisation signed with its company e-signature.
    """
    rng = random.Random(2026)
    for i in range(count):
        roll, cycle = i % 20, i // 20
        if roll < 16:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            name, kind = f"{first} {last}", AccountKind.CITIZEN
        elif roll < 18:
            name, kind = FOREIGN[(2 * cycle + roll - 16) % len(FOREIGN)], AccountKind.FOREIGN_RESIDENT
        elif roll == 18:
            name, kind = BUSINESSES[cycle % len(BUSINESSES)], AccountKind.BUSINESS
        else:
            name, kind = NGOS[cycle % len(NGOS)], AccountKind.NGO
        level = _demo_level(i)
        district = DISTRICTS[i % len(DISTRICTS)] if kind is AccountKind.CITIZEN else None
        yield DemoPerson(f"citizen{i + 1:03d}@demo.civic.az", name, kind, level, district)


def _demo_level(index: int) -> VerificationLevel:
    if index % 20 >= 18:  # organisations sign with the company's e-signature, every other one
        return VerificationLevel.ESIGNATURE if (index // 20) % 2 == 0 else VerificationLevel.UNVERIFIED
    if index % 10 == 0:
        return VerificationLevel.ESIGNATURE
    if index % 5 < 2:
        return VerificationLevel.VERIFIED
    return VerificationLevel.UNVERIFIED


def load_demo(
    runtime: Runtime, *, citizens: int = 300, progress: Callable[[int], None] | None = None
) -> DemoReport:
    """Load (or complete) the demo dataset; returns what was added this time.

    `progress` is called with the number of items just handled (agencies and officials first,
    then each batch of e-citizens), so the caller can show a progress bar.
    """
    report = DemoReport()
    password_hash = runtime.passwords.hash(runtime.settings.demo_password)
    tick = progress or (lambda _n: None)
    with runtime.db.transaction() as session:
        slugs = _load_agencies(session, report)
        registrar = _load_officials(session, slugs, password_hash, report)
    tick(len(AGENCIES) + len(OFFICIALS))
    people = list(_citizens(citizens))
    for start in range(0, len(people), BATCH_SIZE):
        batch = people[start : start + BATCH_SIZE]
        with runtime.db.transaction() as session:
            _load_citizens(session, batch, password_hash, registrar, report)
        tick(len(batch))
    with runtime.db.transaction() as session:
        report.participation = load_participation_demo(session)
    with runtime.db.transaction() as session:
        report.leadership = load_leadership_demo(session)
    return report


def _load_agencies(session: Session, report: DemoReport) -> dict[str, int]:
    ids: dict[str, int] = {a.slug: a.id for a in session.exec(select(Agency)).all() if a.id is not None}
    for slug, parent, kind, name, name_az in AGENCIES:
        if slug in ids:
            continue
        agency = Agency(
            slug=slug, name=name, name_az=name_az, kind=kind, parent_id=ids.get(parent) if parent else None
        )
        session.add(agency)
        session.flush()
        assert agency.id is not None
        ids[slug] = agency.id
        report.agencies += 1
    return ids


def _load_officials(
    session: Session, slugs: dict[str, int], password_hash: str, report: DemoReport
) -> Account:
    registrar: Account | None = None
    for local, name, slug, roles in OFFICIALS:
        email = f"{local}@{OFFICIAL_DOMAIN}"
        official = session.exec(select(Account).where(Account.email == email)).first()
        if official is None:
            data = Registration(email=email, display_name=name, password="x" * 10)
            official = identity_actions.do_register(
                session, data, password_hash, kind=AccountKind.OFFICIAL, agency_id=slugs[slug]
            )
            for role in roles:
                identity_actions.do_grant_role(session, official, role, agency_id=slugs[slug])
            report.officials += 1
        if Role.REGISTRAR in roles:
            registrar = official
    assert registrar is not None
    return registrar


def _load_citizens(
    session: Session, people: list[DemoPerson], password_hash: str, registrar: Account, report: DemoReport
) -> None:
    emails = [person.email for person in people]
    existing = set(session.exec(select(Account.email).where(col(Account.email).in_(emails))).all())
    for person in people:
        if person.email in existing:
            continue
        # The password is never used: the shared hash below is stored instead.
        data = Registration.model_validate(
            {
                "email": person.email,
                "display_name": person.name,
                "password": "x" * 10,
                "kind": person.kind.value,
            }
        )
        account = identity_actions.do_register(session, data, password_hash)
        report.citizens += 1
        if person.level is not VerificationLevel.UNVERIFIED:
            method = "esignature" if person.level is VerificationLevel.ESIGNATURE else "in_person"
            request = VerificationRequest.model_validate(
                {"level": person.level.value, "method": method, "district": person.district}
            )
            identity_actions.do_verify(session, registrar, account, request)
            report.verified += 1
