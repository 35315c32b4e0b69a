"""Demo consultations in every phase, with proposals, supports and comments, some in Azerbaijani.

History is written through the `do_*` actions directly (the checks would refuse, say, a support in
a consultation that has since moved on to deliberation), and only for people the consultation's
rules admit, so the demo looks like a record of real use. Keyed by consultation title: a rerun
adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from civic.identity.models import Account, AccountKind, Agency
from civic.participation import actions, consultations
from civic.participation.models import Consultation, Phase, Proposal
from civic.participation.rules import eligibility_refusal
from civic.participation.schemas import CommentInput, ConsultationInput, ProposalInput


@dataclass
class ParticipationReport:
    consultations: int = 0
    proposals: int = 0
    supports: int = 0
    comments: int = 0


@dataclass(frozen=True)
class DemoConsultation:
    agency: str
    convener: str
    title: str
    summary: str
    body: str
    phase: Phase
    proposals: list[tuple[str, str, str | None]]  # title, body, category
    published: bool = True
    language: str = "en"
    categories: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    schedule: dict[str, dict[str, str]] = field(default_factory=dict)


CONSULTATIONS: list[DemoConsultation] = [
    DemoConsultation(
        agency="baku-transport",
        convener="convener",
        title="Safe cycling in central Baku",
        summary="Where should the first protected bike lanes go, and what would make you cycle to work?",
        body=(
            "The Baku Transport Agency plans 40 km of protected bike lanes over the next three years.\n\n"
            "Tell us which streets need them first, what keeps you from cycling today, and where bikes "
            "should be parked. Proposals with 25 supports or more are studied by the agency's engineers "
            "and answered in public."
        ),
        phase=Phase.SUPPORT,
        categories=["Bike lanes", "Safety", "Parking", "Public transport"],
        options={
            "support_threshold": 25,
            "cover_url": "/static/covers/cycling.svg",
            "cover_alt": "A bicycle on a protected lane by the sea",
        },
        schedule={
            "proposals": {"starts": "2026-10-01", "ends": "2026-11-10"},
            "support": {"starts": "2026-11-11", "ends": "2026-12-15"},
        },
        proposals=[
            (
                "A protected lane along Neftchilar Avenue",
                "The seaside boulevard is flat and already popular "
                "with cyclists. A lane **separated by kerbs** from traffic would connect the Old City with "
                "the White City.",
                "Bike lanes",
            ),
            (
                "Bike parking at every metro station",
                "Secure racks at metro entrances would let people "
                "combine cycling with the metro. Start with *28 May* and *Koroghlu*.",
                "Parking",
            ),
            (
                "Lower speed limits near schools",
                "30 km/h within 300 m of schools, enforced with cameras.",
                "Safety",
            ),
            (
                "Allow bikes on the metro outside rush hours",
                "Many cities allow bikes on trains between "
                "10:00 and 16:00 and after 20:00. Baku could try it for six months.",
                "Public transport",
            ),
            (
                "A bike-share pilot in Yasamal",
                "Fifty docking stations with 500 bikes, paid with the BakıKart.",
                "Public transport",
            ),
            (
                "Cycling lessons for adults",
                "Free weekend lessons in parks for adults who never learnt.",
                None,
            ),
            (
                "Connect Nizami Street to Fountain Square",
                "A short contraflow lane would avoid a dangerous detour through heavy traffic.",
                "Bike lanes",
            ),
            (
                "Show cycling routes in the city map app",
                "Mark safe streets and lanes so newcomers can plan a trip.",
                None,
            ),
        ],
    ),
    DemoConsultation(
        agency="mddt-egov",
        convener="egov-convener",
        title="Rəqəmsal xidmətlər: hansı xidmət ilk növbədə onlayn olmalıdır?",
        summary="Dövlət xidmətlərindən hansını evdən çıxmadan almaq istərdiniz? Təkliflərinizi gözləyirik.",
        body=(
            "Elektron Hökumət Xidmətləri Departamenti gələn il 20 yeni xidməti onlayn etməyi planlaşdırır.\n\n"
            "Hansı xidmətlər üçün hələ də növbəyə durmalı olursunuz? Təklif verin; ən çox dəstəklənən "
            "təkliflər ilk növbədə baxılacaq."
        ),
        phase=Phase.PROPOSALS,
        language="az",
        categories=["Sənədlər", "Sosial xidmətlər", "Biznes"],
        options={"min_verification": "verified", "support_threshold": 50, "moderation": "pre"},
        proposals=[
            (
                "Doğum şəhadətnaməsinin dublikatı onlayn",
                "Dublikat üçün ASAN xidmətə getmək lazım olmasın; "
                "elektron imza ilə sifariş və poçtla çatdırılma kifayətdir.",
                "Sənədlər",
            ),
            (
                "Kiçik biznes üçün lisenziyaların tək pəncərədə verilməsi",
                "Bütün icazələr bir müraciətlə, bir portalda.",
                "Biznes",
            ),
            (
                "Pensiya arayışı bir kliklə",
                "Bankın tələb etdiyi arayışı portaldan PDF kimi yükləmək mümkün olsun.",
                "Sosial xidmətlər",
            ),
        ],
    ),
    DemoConsultation(
        agency="baku-transport",
        convener="convener",
        title="Night bus routes",
        summary="Which night bus routes would help you most? The proposals are now being discussed.",
        body="After the proposals and support phases, the agency's planners are discussing the most "
        "supported night routes with residents before deciding.",
        phase=Phase.DELIBERATION,
        categories=["Routes", "Timetables"],
        options={
            "support_threshold": 15,
            "cover_url": "/static/covers/transport.svg",
            "cover_alt": "A bus at night",
        },
        proposals=[
            (
                "Airport to city centre all night",
                "Flights land all night; a bus every 30 minutes would replace expensive taxis.",
                "Routes",
            ),
            (
                "Night line along the metro's red line",
                "Buses following the metro between 00:00 and 06:00.",
                "Routes",
            ),
            (
                "Live arrival times at night stops",
                "Screens or the app should show when the next night bus comes.",
                "Timetables",
            ),
            ("Hourly service to Sumgayit", "Shift workers need to get home after midnight.", "Routes"),
        ],
    ),
    DemoConsultation(
        agency="baku-transport-mobility",
        convener="convener",
        title="Green courtyards in Yasamal",
        summary="Residents of Yasamal: help us choose which courtyards to turn into green, car-free spaces.",
        body="This consultation is open to verified residents of Yasamal district. The proposals phase "
        "opens next month; read the plan and the map in the meantime.",
        phase=Phase.INFORMATION,
        options={"district": "Yasamal", "min_verification": "verified", "allow_organisations": False},
        schedule={"proposals": {"starts": "2026-12-15", "ends": "2027-01-31"}},
        proposals=[],
    ),
    DemoConsultation(
        agency="baku-transport",
        convener="convener",
        title="Accessible bus stops",
        summary="Which bus stops are hardest to use with a wheelchair, a pram or a cane? Closed and answered.",
        body="Thank you to everyone who took part. The agency answered every proposal; see each one for "
        "the decision and the timetable of the works.",
        phase=Phase.CLOSED,
        options={"support_threshold": 10},
        proposals=[
            ("Raised kerbs at Ganjlik bus stops", "The kerb is too low to board without help.", None),
            ("Audio announcements at major stops", "Announce the next bus for blind passengers.", None),
            (
                "Benches at every stop on Tbilisi Avenue",
                "Older people cannot wait standing for 20 minutes.",
                None,
            ),
        ],
    ),
    DemoConsultation(
        agency="baku-transport",
        convener="convener",
        title="Parking fees in the city centre (draft)",
        summary="A draft the agency is still preparing: only its officials see it.",
        body="Draft text of the parking consultation.",
        phase=Phase.INFORMATION,
        published=False,
        proposals=[],
    ),
]

COMMENTS = [
    "I agree — this would make a real difference on my daily commute.",
    "How would this work in summer, when it is very hot?",
    "Good idea, but it needs a budget estimate.",
    "Bu çox vacibdir, tamamilə razıyam.",
    "We tried something similar in our neighbourhood and it worked well.",
    "Could the agency publish the data behind this decision?",
]
REPLIES = [
    "Good point — the engineers should look at that.",
    "Mən də eyni fikirdəyəm.",
    "Thanks, I had not thought of it.",
]


def load_participation_demo(session: Session, rng_seed: int = 7) -> ParticipationReport:
    report = ParticipationReport()
    existing = set(session.exec(select(Consultation.title)).all())
    agencies = {a.slug: a for a in session.exec(select(Agency)).all()}
    officials = {
        a.email.split("@")[0]: a
        for a in session.exec(select(Account).where(Account.kind == AccountKind.OFFICIAL)).all()
    }
    people = list(
        session.exec(
            select(Account).where(col(Account.kind) != AccountKind.OFFICIAL).order_by(col(Account.id))
        ).all()
    )
    rng = random.Random(rng_seed)
    for spec in CONSULTATIONS:
        if spec.title in existing or spec.agency not in agencies or spec.convener not in officials:
            continue
        _load_consultation(
            session, spec, agencies[spec.agency], officials[spec.convener], people, rng, report
        )
    return report


def _load_consultation(
    session: Session,
    spec: DemoConsultation,
    agency: Agency,
    convener: Account,
    people: list[Account],
    rng: random.Random,
    report: ParticipationReport,
) -> None:
    data = ConsultationInput.model_validate(
        {
            "agency_id": agency.id,
            "title": spec.title,
            "summary": spec.summary,
            "body": spec.body,
            "language": spec.language,
            "categories": spec.categories,
            "schedule": spec.schedule,
            **spec.options,
        }
    )
    consultation = consultations.do_create_consultation(session, convener, data)
    report.consultations += 1
    if not spec.published:
        return
    consultation.phase = Phase.PROPOSALS
    consultations.do_publish_consultation(session, convener, consultation)
    eligible = [p for p in people if eligibility_refusal(consultation, p) is None]
    if not eligible:
        return
    for title, body, category in spec.proposals:
        author = rng.choice(eligible)
        proposal = actions.do_submit_proposal(
            session, author, consultation, ProposalInput(title=title, body=body, category=category)
        )
        report.proposals += 1
        if spec.phase in (Phase.INFORMATION, Phase.PROPOSALS):
            continue
        _load_reactions(session, consultation, proposal, author, eligible, rng, report)
    if spec.phase != Phase.PROPOSALS:
        consultations.do_change_phase(session, convener, consultation, spec.phase)


def _load_reactions(
    session: Session,
    consultation: Consultation,
    proposal: Proposal,
    author: Account,
    eligible: list[Account],
    rng: random.Random,
    report: ParticipationReport,
) -> None:
    others = [p for p in eligible if p.id != author.id]
    for supporter in rng.sample(others, k=min(len(others), rng.randint(2, 40))):
        actions.do_support_proposal(session, supporter, proposal, consultation)
        report.supports += 1
    for _ in range(rng.randint(0, 3)):
        commenter = rng.choice(others)
        comment = actions.do_post_comment(
            session, commenter, proposal, consultation, CommentInput(body=rng.choice(COMMENTS)), None
        )
        report.comments += 1
        if rng.random() < 0.5:
            replier = rng.choice(eligible)
            actions.do_post_comment(
                session,
                replier,
                proposal,
                consultation,
                CommentInput(body=rng.choice(REPLIES), parent_id=comment.id),
                comment,
            )
            report.comments += 1
