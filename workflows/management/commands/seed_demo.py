"""Fictional demo data for the Olomouc Region: one ORP, its OSPOD, partner organisations and one login per kind of user.

Every name, organisation and person here is invented; nothing refers to a real child or family. The command is
idempotent: it looks rows up by their natural keys (ORP code, organisation name, username) and only creates what is
missing, so running it twice changes nothing, and an existing account keeps its password and any edits made since.

Each part is a function that takes what the earlier parts returned, so later features add their own part (children,
cases, flows) by writing another ``seed_…`` function and calling it from :func:`seed_all`. All demo accounts share
:data:`DEMO_PASSWORD`, which is why the command refuses to run with production settings.

Cases are made through the real services (``case_open``, ``team_member_add``, ``case_note_add``, ``consent_record``,
``share_grant``, ``case_close``), so their notes are sealed, their teams indexed and every write audited as in use. A
demo child who has any case (open or closed) is left alone on a second run. :data:`JOURNEY_CHILD` never gets a case
here: the browser journey opens one for it.

The demo shows a case at every stage of its flow, each driven through the real flows and task API
(``workflows.flows``, ``workflows.tasks``), never by writing rows by hand:

* a NEW report, filed through ``report_receive`` and waiting unclaimed in the supervisors' triage queue;
* a report IN TRIAGE, taken from the queue by a supervisor (``task_claim``) but not decided yet;
* a report about a CHILD WITHOUT A BIRTH NUMBER (found by the police, age estimated), triaged into an open case: the
  child is registered by name, estimated date of birth and other identifiers; the number is added later;
* a case in ASSESSMENT: inputs asked of two members, one provided, one still open;
* a case whose PLAN IS OVERDUE: assessed, the "draft the protection plan" task open, opened more than a month ago;
* a case whose REVIEW IS DUE: plan drafted, submitted and approved by a supervisor who did not draft it;
* and the CLOSED case.

Only the dates of the past (when a case opened, when a plan was approved, when something is due) are moved afterwards,
with queryset updates, because the services stamp "now". The new cases open after the first three, so the references
OM …/0001 to …/0003 stay those of the original cases. A demo report is recognised by who recorded it and how it came;
one found is left alone on a second run. The command ends with one line per case and report: its reference and stage.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from viewflow.workflow.models import Task

from casework.admin import administrator_permissions
from casework.birth_number import normalize_birth_number
from casework.compartments import Compartment
from casework.models import (
    Attendance,
    Case,
    Child,
    ChildParticipation,
    CloseReason,
    Conference,
    ConferenceInvitee,
    DutyShift,
    FileInspection,
    InputStatus,
    InspectionMode,
    InspectionRecipient,
    InspectionSection,
    LegalRepresentative,
    MembershipEndReason,
    Municipality,
    OpenReason,
    Organisation,
    ParticipantRelation,
    Plan,
    PlanAction,
    PlanStatus,
    Report,
    ReportChannel,
    ReportStatus,
    Role,
    Sector,
    SupervisorCover,
    TeamMembership,
    TeamRole,
    User,
)
from casework.selectors import birth_number_index
from casework.selectors.case_file import case_disclosed
from casework.services import (
    ChildIdentity,
    ReportDetails,
    RepresentativeInput,
    case_note_add,
    case_open,
    child_create,
    report_triage,
    team_member_add,
    team_member_end,
    team_roles_ensure_defaults,
)
from casework.services.account_changes import account_create
from casework.services.assessments import (
    InputRequest,
    assessment_input_provide,
    assessment_inputs_request,
    assessment_write,
)
from casework.services.children import child_representative_add
from casework.services.competence import competence_ensure_defaults, duty_shift_add
from casework.services.conferences import (
    ParticipantInput,
    conference_decision_add,
    conference_record,
    conference_schedule,
    conference_sign_off,
)
from casework.services.cover import supervisor_cover_add
from casework.services.inspections import inspection_decide, inspection_prepare, inspection_record
from casework.services.lifecycle import closure_approve, closure_request
from casework.services.plan_actions import ActionInput, action_report, plan_decisions_import
from casework.services.plans import plan_approve, plan_in_work, plan_save, plan_submit
from permissions import audit
from permissions.access import load_case_access
from permissions.break_glass import break_glass_open
from permissions.models import BreakGlassGrant, ConsentGiver
from permissions.sharing import consent_record, share_grant
from services.demo import seed_service_directory
from services.referrals.demo import seed_referrals
from workflows import tasks
from workflows.deadlines import add_months, end_of_day, ipod_due
from workflows.flows import CaseFlow, ClosureFlow, ReportFlow, report_receive
from workflows.models import AuthoritySettings, Deadline, DeadlineKind

DEMO_PASSWORD = "demo-heslo-2026"  # noqa: S105 - the demo's published shared password, never used in production
# The demo's published authenticator secret (base32; it spells DEMO, it protects nothing real) and recovery codes,
# given to every demo login of a role that needs a second factor in production. `oathtool --totp -b SECRET` prints
# the current code. Never used in production: the command refuses prod settings.
DEMO_OTP_SECRET = "DEMODEMODEMODEMODEMODEMODEMODEMO"  # noqa: S105
DEMO_RECOVERY_CODES = ("demo1111", "demo2222", "demo3333", "demo4444", "demo5555")
DEMO_OTP_ROLES = frozenset({Role.OSPOD_WORKER, Role.SUPERVISOR, Role.DPO, Role.ADMINISTRATOR, Role.REGIONAL_OFFICE})

MUNICIPALITY_CODE = "OM"
DEMO_REGION = "Olomoucký kraj"
MUNICIPALITY_NAME = "Olomouc"


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    name: str
    sector: Sector


@dataclass(frozen=True)
class DemoPerson:
    username: str
    first_name: str
    last_name: str
    role: Role
    organisation_key: str
    job_title: str


DEMO_ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    DemoOrganisation("ospod", "OSPOD Magistrát města Olomouce", Sector.OSPOD),
    DemoOrganisation("school_1", "ZŠ Javorová Olomouc", Sector.SCHOOL),
    DemoOrganisation("school_2", "ZŠ Na Vyhlídce Olomouc", Sector.SCHOOL),
    DemoOrganisation("paediatrics", "Dětská ordinace MUDr. Hany Vrbové", Sector.HEALTH),
    DemoOrganisation("psychiatry", "Ambulance dětské psychiatrie MUDr. Tomáše Kratochvíla", Sector.HEALTH),
    DemoOrganisation("sas", "SAS pro rodiny s dětmi Olomouc (Jabloňka pro rodiny, z. ú.)", Sector.SERVICE),
    # The municipal office the OSPOD department belongs to: home of the DPO and the administrator, who are not
    # OSPOD staff and never see case content.
    DemoOrganisation("office", "Magistrát města Olomouce", Sector.OTHER),
    # The regional office (krajský úřad): sees the statistics of the region's ORPs, never a case (issue 22).
    DemoOrganisation("region", "Krajský úřad Olomouckého kraje", Sector.OTHER),
)

DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        "vedouci", "Jana", "Dvořáková", Role.SUPERVISOR, "ospod", "vedoucí oddělení sociálně-právní ochrany dětí"
    ),
    DemoPerson("koordinator", "Petr", "Novotný", Role.OSPOD_WORKER, "ospod", "koordinátor případů"),
    DemoPerson("koordinatorka2", "Lucie", "Marková", Role.OSPOD_WORKER, "ospod", "koordinátorka případů"),
    DemoPerson("ucitelka", "Eva", "Procházková", Role.PARTNER, "school_1", "třídní učitelka"),
    DemoPerson("vychovny", "Martin", "Šťastný", Role.PARTNER, "school_2", "výchovný poradce"),
    DemoPerson("pediatr", "Hana", "Vrbová", Role.PARTNER, "paediatrics", "praktická lékařka pro děti a dorost"),
    DemoPerson("psychiatr", "Tomáš", "Kratochvíl", Role.PARTNER, "psychiatry", "dětský psychiatr"),
    DemoPerson("sas", "Kateřina", "Horáková", Role.PARTNER, "sas", "sociální pracovnice SAS"),
    DemoPerson("poverenec", "Jiří", "Černý", Role.DPO, "office", "pověřenec pro ochranu osobních údajů"),
    DemoPerson("spravce", "Ondřej", "Kučera", Role.ADMINISTRATOR, "office", "správce systému"),
    DemoPerson("kraj", "Alena", "Krajská", Role.REGIONAL_OFFICE, "region", "oddělení sociálně-právní ochrany dětí"),
)


@dataclass(frozen=True)
class DemoChild:
    given_name: str
    family_name: str
    born: datetime.date
    birth_number: str  # synthetic: computed to be valid, belongs to nobody we know of
    address: str
    representative: tuple[str, str, str]  # relation, name, contact


DEMO_CHILDREN: tuple[DemoChild, ...] = (
    DemoChild(
        "Anežka",
        "Pokorná",
        datetime.date(2014, 3, 9),
        "145309/1013",
        "Javorová 12, 779 00 Olomouc",
        ("mother", "Veronika Pokorná", "+420 601 000 101"),
    ),
    DemoChild(
        "Matyáš",
        "Kolář",
        datetime.date(2011, 11, 23),
        "111123/1011",
        "Na Vyhlídce 3, 779 00 Olomouc",
        ("father", "Radek Kolář", "+420 601 000 102"),
    ),
    DemoChild(
        "Viktorie",
        "Benešová",
        datetime.date(2017, 6, 2),
        "175602/1014",
        "Bělidla 7, 779 00 Olomouc",
        ("guardian", "Zdenka Benešová", "+420 601 000 103"),
    ),
    DemoChild(
        "Tobiáš",
        "Havelka",
        datetime.date(2013, 9, 14),
        "130914/1020",
        "Wellnerova 5, 779 00 Olomouc",
        ("mother", "Simona Havelková", "+420 601 000 104"),
    ),
    # The children of the cases at later stages of the flow (case_4 to case_6).
    DemoChild(
        "Šimon",
        "Dostál",
        datetime.date(2012, 4, 17),
        "120417/0319",
        "Dělnická 21, 779 00 Olomouc",
        ("mother", "Ilona Dostálová", "+420 601 000 105"),
    ),
    DemoChild(
        "Karolína",
        "Zemanová",
        datetime.date(2015, 10, 5),
        "156005/0426",
        "Foerstrova 9, 779 00 Olomouc",
        ("father", "Aleš Zeman", "+420 601 000 106"),
    ),
    DemoChild(
        "Filip",
        "Sedláček",
        datetime.date(2010, 1, 28),
        "100128/0533",
        "Rooseveltova 40, 779 00 Olomouc",
        ("guardian", "Jarmila Sedláčková", "+420 601 000 107"),
    ),
    # The child of the case whose plan came out of a case conference (case_7).
    DemoChild(
        "Adéla",
        "Vlčková",
        datetime.date(2013, 2, 11),
        "135211/0023",
        "Polská 14, 779 00 Olomouc",
        ("mother", "Petra Vlčková", "+420 601 000 108"),
    ),
)

#: The demo child with no case at all: the browser journey opens the first one (Tobiáš Havelka).
JOURNEY_CHILD = "130914/1020"


@dataclass(frozen=True)
class DemoMember:
    username: str
    team_role: str  # TeamRole.name_cs, from migration casework/0004_team_roles
    ended: str = ""  # a MembershipEndReason when the membership ended before the case did


@dataclass(frozen=True)
class DemoNote:
    author: str
    compartment: Compartment
    text: str


@dataclass(frozen=True)
class DemoShare:
    """The coordinator shares a whole compartment with one member; health rests on the consent recorded for it."""

    recipient: str
    compartment: Compartment
    purpose: str
    days: int


@dataclass(frozen=True)
class DemoCase:
    key: str
    birth_number: str  # whose case: a DemoChild
    coordinator: str
    opened_by: str
    open_reason: OpenReason
    members: tuple[DemoMember, ...]
    notes: tuple[DemoNote, ...] = ()
    consent: tuple[Compartment, ConsentGiver, str] | None = None  # scope, who agreed, their name
    shares: tuple[DemoShare, ...] = ()
    close_reason: CloseReason | None = None
    closed_by: str = ""
    flow: DemoFlow | None = None  # how far the case flow goes; none: the "ask for inputs" task waits


@dataclass(frozen=True)
class DemoPlan:
    """The protection plan the coordinator drafts and submits; ``approved_by`` (a supervisor who did not draft it)
    approves it, which opens the review task."""

    goals: tuple[str, ...]
    support_offered: str
    child_views: str
    parents_views: str
    approved_by: str
    approved_days_ago: int  # moved back afterwards: the plan has been in force this long
    review_in_days: int  # the review falls due this many days from today (within the due-soon window)


@dataclass(frozen=True)
class DemoDecision:
    """A conference decision that becomes a plan action: ``owner`` is a login or an organisation key (``org:sas``);
    ``goal`` the index of the plan goal it serves."""

    text: str
    owner: str
    due_in_days: int
    goal: int
    success_measure: str = ""


@dataclass(frozen=True)
class DemoConference:
    """A case conference held ``held_days_ago`` days ago and signed off; its decisions become the actions of the
    plan, which ``approved_by`` approves. Afterwards the action at ``overdue_action`` is made ``overdue_days`` late,
    and ``progress`` holds (owner login, text) progress reports."""

    place: str
    held_days_ago: int
    minutes: str
    child_participation: str
    participant: tuple[str, str]  # name, relation (no e-mail: the demo sends no mail outside)
    decisions: tuple[DemoDecision, ...]
    goals: tuple[str, ...]
    support_offered: str
    child_views: str
    parents_views: str
    approved_by: str
    overdue_action: int
    overdue_days: int
    progress: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DemoFlow:
    """How far a case goes in ``CaseFlow``: inputs asked of ``asked``, provided by those in ``inputs``; then the
    assessment (when given) and the plan (when given). ``opened_days_ago`` moves the opening back afterwards."""

    asked: tuple[str, ...]
    inputs: tuple[tuple[str, str], ...] = ()  # (member, input text)
    assessment: tuple[str, str, str, str] | None = None  # needs, parenting capacity, environment, child's views
    plan: DemoPlan | None = None
    conference: DemoConference | None = None  # instead of ``plan``: the plan comes out of a case conference
    opened_days_ago: int = 0
    input_due_days: int = 14


# Fictional case notes: no real child, family, school or clinic is described.
DEMO_CASES: tuple[DemoCase, ...] = (
    DemoCase(
        key="case_1",
        birth_number="145309/1013",
        coordinator="koordinator",
        opened_by="vedouci",
        open_reason=OpenReason.REPORT,
        members=(
            DemoMember("ucitelka", "třídní učitel/ka"),
            DemoMember("pediatr", "praktický lékař pro děti a dorost"),
            DemoMember("sas", "sociální pracovník/pracovnice SAS"),
        ),
        notes=(
            DemoNote(
                "koordinator",
                Compartment.SOCIAL,
                "Šetření v domácnosti: matka samoživitelka, dluhy na nájemném, byt čistý, dítě má kout na učení.",
            ),
            DemoNote(
                "ucitelka",
                Compartment.SCHOOL,
                "Od září 14 neomluvených hodin, vždy první hodina v pondělí. Ve třídě klidná, horší v matematice.",
            ),
            DemoNote(
                "pediatr",
                Compartment.HEALTH,
                "Preventivní prohlídka: váha na spodní hranici pásma, matka uvádí nechutenství. Kontrola za 3 měsíce.",
            ),
            DemoNote(
                "sas",
                Compartment.SERVICES,
                "SAS: dvě návštěvy týdně, sestaven rozpočet domácnosti, matka souhlasí s doprovodem na úřad práce.",
            ),
        ),
        consent=(Compartment.HEALTH, ConsentGiver.MOTHER, "Veronika Pokorná"),
        shares=(DemoShare("sas", Compartment.HEALTH, "plánování podpory rodiny v domácnosti (stravování)", 90),),
    ),
    DemoCase(
        key="case_2",
        birth_number="111123/1011",
        coordinator="koordinatorka2",
        opened_by="vedouci",
        open_reason=OpenReason.OWN_FINDING,
        members=(
            DemoMember("vychovny", "výchovný poradce / výchovná poradkyně"),
            DemoMember("psychiatr", "dětský psychiatr/psychiatrička"),
        ),
        notes=(
            DemoNote(
                "koordinatorka2",
                Compartment.SOCIAL,
                "Otec pečuje sám, pracuje na směny. Chlapec po škole často bez dozoru, otec spolupráci vítá.",
            ),
            DemoNote(
                "vychovny",
                Compartment.SCHOOL,
                "Opakované konflikty se spolužáky o přestávkách, dohodnuta spolupráce se školním psychologem.",
            ),
            DemoNote(
                "psychiatr",
                Compartment.HEALTH,
                "Vstupní vyšetření: poruchy spánku a úzkost, doporučena psychoterapie, medikace zatím ne.",
            ),
        ),
    ),
    DemoCase(
        key="case_3",
        birth_number="175602/1014",
        coordinator="koordinator",
        opened_by="koordinator",
        open_reason=OpenReason.PARENT_REQUEST,
        members=(
            DemoMember("sas", "sociální pracovník/pracovnice SAS", ended=MembershipEndReason.TASK_DONE),
            DemoMember("ucitelka", "třídní učitel/ka"),
        ),
        notes=(
            DemoNote(
                "koordinator",
                Compartment.SOCIAL,
                "Poručnice zvládá péči, bydlení zajištěno, cíle plánu splněny. Doporučeno ukončení.",
            ),
            DemoNote("sas", Compartment.SERVICES, "Spolupráce ukončena po splnění zakázky: rodina je stabilizovaná."),
        ),
        close_reason=CloseReason.GOALS_MET,
        closed_by="vedouci",
    ),
    # ASSESSMENT: inputs asked of the school counsellor and the paediatrician; the school's is in, the doctor's not.
    DemoCase(
        key="case_4",
        birth_number="120417/0319",
        coordinator="koordinatorka2",
        opened_by="vedouci",
        open_reason=OpenReason.REPORT,
        members=(
            DemoMember("vychovny", "výchovný poradce / výchovná poradkyně"),
            DemoMember("pediatr", "praktický lékař pro děti a dorost"),
        ),
        flow=DemoFlow(
            asked=("vychovny", "pediatr"),
            inputs=(
                (
                    "vychovny",
                    "Od října chodí pozdě, o přestávkách sedí sám. Známky se zhoršily z matematiky a češtiny.",
                ),
            ),
        ),
    ),
    # PLAN OVERDUE: assessed, the plan task open, the case opened more than a month ago.
    DemoCase(
        key="case_5",
        birth_number="156005/0426",
        coordinator="koordinator",
        opened_by="vedouci",
        open_reason=OpenReason.REPORT,
        members=(DemoMember("sas", "sociální pracovník/pracovnice SAS"),),
        flow=DemoFlow(
            asked=("sas",),
            inputs=(("sas", "Otec přijal podporu SAS, domácnost zvládá, chybí mu pomoc s přípravou do školy."),),
            assessment=(
                "Pravidelný režim, doučování, kontakt s matkou podle dohody rodičů.",
                "Otec pečuje s láskou, je ale přetížený prací na směny.",
                "Byt 2+1, babička dochází dvakrát týdně, finančně napjaté.",
                "Chce bydlet s tatínkem a vídat maminku o víkendech.",
            ),
            opened_days_ago=40,
        ),
    ),
    # REVIEW DUE: the plan approved by the supervisor some months ago; its review falls due tomorrow.
    DemoCase(
        key="case_6",
        birth_number="100128/0533",
        coordinator="koordinator",
        opened_by="vedouci",
        open_reason=OpenReason.OWN_FINDING,
        members=(
            DemoMember("psychiatr", "dětský psychiatr/psychiatrička"),
            DemoMember("sas", "sociální pracovník/pracovnice SAS"),
        ),
        flow=DemoFlow(
            asked=("psychiatr",),
            inputs=(("psychiatr", "Úzkostné projevy po úmrtí matky, doporučena pravidelná psychoterapie."),),
            assessment=(
                "Stabilní péče babičky, psychoterapie, podpora při přechodu na střední školu.",
                "Babička pečuje pečlivě, na dospívajícího vnuka jí chybí síly.",
                "Vlastní pokoj v bytě babičky, pravidelný příjem z důchodu a sirotčího.",
                "Chce zůstat u babičky a chodit na házenou.",
            ),
            plan=DemoPlan(
                goals=(
                    "Filip dochází jednou za 14 dní na psychoterapii.",
                    "Babička má jednou týdně podporu pracovnice SAS.",
                ),
                support_offered="Doprovod na terapii, poradenství SAS pro babičku, kontakt se školou.",
                child_views="Souhlasí s terapií, chce zůstat u babičky.",
                parents_views="Babička plán podporuje, žádá pomoc s úřady.",
                approved_by="vedouci",
                approved_days_ago=88,
                review_in_days=1,
            ),
            opened_days_ago=120,
        ),
    ),
    # PLAN FROM A CONFERENCE: a signed-off case conference whose decisions became the actions of the approved plan;
    # the actions wait in the teacher's and the paediatrician's inboxes and in the SAS service's queue, one overdue.
    DemoCase(
        key="case_7",
        birth_number="135211/0023",
        coordinator="koordinatorka2",
        opened_by="vedouci",
        open_reason=OpenReason.REPORT,
        members=(
            DemoMember("ucitelka", "třídní učitel/ka"),
            DemoMember("pediatr", "praktický lékař pro děti a dorost"),
            DemoMember("sas", "sociální pracovník/pracovnice SAS"),
        ),
        flow=DemoFlow(
            asked=("ucitelka",),
            inputs=(("ucitelka", "Chybí často v pondělí, učivo dohání s obtížemi, ve třídě má dvě kamarádky."),),
            assessment=(
                "Pravidelná docházka, kontrola zdraví po opakovaných nemocech, pomoc matce s režimem.",
                "Matka se snaží, po nástupu na noční směny nestíhá ranní režim.",
                "Byt 3+1 s babičkou, příjem stabilní, dluh na nájemném splácen.",
                "Chce chodit do své školy a mít víc času s mámou.",
            ),
            conference=DemoConference(
                place="OSPOD Olomouc, Hynaisova 10, zasedací místnost 2.12",
                held_days_ago=20,
                minutes="Dohodnut ranní režim, škola hlásí absence týdně, lékařka zkontroluje zdravotní stav.",
                child_participation=ChildParticipation.PART,
                participant=("Petra Vlčková", ParticipantRelation.PARENT),
                decisions=(
                    DemoDecision(
                        "Škola každý pátek pošle koordinátorce přehled docházky.",
                        "ucitelka",
                        40,
                        0,
                        "Přehled dorazí každý týden.",
                    ),
                    DemoDecision(
                        "Preventivní prohlídka a kontrola očkování.",
                        "pediatr",
                        25,
                        1,
                        "Zpráva z prohlídky je v kartě.",
                    ),
                    DemoDecision(
                        "Pracovnice SAS pomůže matce nastavit ranní režim (dvakrát týdně).",
                        "org:sas",
                        60,
                        0,
                        "Dcera chodí do školy včas.",
                    ),
                ),
                goals=(
                    "Adéla chodí do školy pravidelně a včas.",
                    "Zdravotní stav Adély je pravidelně sledován.",
                ),
                support_offered="Podpora SAS v rodině, týdenní kontakt se školou, doprovod k lékařce.",
                child_views="Chce zůstat ve své třídě; ráno jí pomáhá, když ji budí babička.",
                parents_views="Matka s plánem souhlasí a žádá pomoc s ranním režimem.",
                approved_by="vedouci",
                overdue_action=1,
                overdue_days=3,
                progress=(("ucitelka", "Přehled docházky za první dva týdny odeslán, absence klesly."),),
            ),
            opened_days_ago=45,
        ),
    ),
)


# --- Local competence (§ 61): a second authority, the duty roster, a report routed by the child's residence --------

#: Prostějov uses the product too: a report about a child living in its area lands in its triage queue.
SECOND_AUTHORITY_CODE = "PV"
SECOND_AUTHORITY_OSPOD = "OSPOD Magistrát města Prostějova"
DEMO_SECOND_AUTHORITY_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("vedouci_pv", "Marta", "Zedníková", Role.SUPERVISOR, "ospod_pv", "vedoucí oddělení SPOD"),
    DemoPerson("koordinator_pv", "Radek", "Šimek", Role.OSPOD_WORKER, "ospod_pv", "sociální pracovník OSPOD"),
)
#: Who is on duty (standard 1b): from the start of today for a week, nights and weekends included.
DEMO_DUTY = (("koordinatorka2", 7), ("koordinator_pv", 7))


@dataclass(frozen=True)
class DemoReport:
    """A report filed through the form (a partner) or entered by OSPOD staff; ``claimed_by`` takes its triage."""

    key: str
    filed_by: str
    details: ReportDetails
    claimed_by: str = ""
    #: Triaged "at risk" by this supervisor with this coordinator and the child's register details (opens the case).
    triaged_by: str = ""
    coordinator: str = ""
    child: ChildIdentity | None = None


# Fictional reports: the children are not in the register (nobody has triaged them yet).
DEMO_REPORTS: tuple[DemoReport, ...] = (
    # NEW: filed by the class teacher through the form, waiting unclaimed in the supervisors' queue.
    DemoReport(
        key="report_new",
        filed_by="ucitelka",
        details=ReportDetails(
            facts="Natálie nosí týden stejné oblečení, ve škole nesvačí a říká, že doma není nikdo do večera.",
            child_given_name="Natálie",
            child_family_name="Vlčková",
            child_date_of_birth=datetime.date(2016, 2, 11),
            child_birth_number="165211/0647",
            child_address="Kmochova 14, 779 00 Olomouc",
            feedback_requested=True,
        ),
    ),
    # IN TRIAGE: a neighbour's phone call taken by a coordinator; the supervisor has taken it, not decided yet.
    DemoReport(
        key="report_triage",
        filed_by="koordinatorka2",
        details=ReportDetails(
            facts="Sousedka slyší v noci opakovaně křik, chlapec sedí večer na chodbě a nechce jít domů.",
            child_given_name="Jakub",
            child_family_name="Holub",
            child_date_of_birth=datetime.date(2013, 7, 30),
            child_birth_number="130730/0753",
            child_address="Pionýrská 6, 779 00 Olomouc",
            channel=ReportChannel.PHONE,
            notifier_kind="other_person",
            notifier_name="Alena Nováčková, sousedka",
            notifier_contact="+420 601 000 201",
        ),
        claimed_by="vedouci",
    ),
    # A CHILD WITHOUT A BIRTH NUMBER: the police found a boy without documents; his age is estimated. Triage opens
    # his case by name, estimated date of birth and other identifiers; the number is added later on the child's page
    # (a duplicate there is offered as a merge for a supervisor). From here the case follows DOMAIN.md's steps 5-10.
    DemoReport(
        key="report_no_birth_number",
        filed_by="koordinator",
        details=ReportDetails(
            facts="Hlídka zastihla chlapce bez dokladů a bez doprovodu na nádraží; rodiče nezná, mluví ukrajinsky.",
            child_given_name="Oleh",
            child_family_name="Bondarenko",
            child_date_of_birth=datetime.date(2013, 1, 1),
            child_address="",
            channel=ReportChannel.LETTER,
            notifier_kind="state_body",
            notifier_name="Policie ČR, obvodní oddělení Olomouc-město (smyšlené)",
            notifier_contact="oop.olomouc@example.invalid",
            feedback_requested=True,
            urgency_hints=("without_care",),
        ),
        triaged_by="vedouci",
        coordinator="koordinatorka2",
        child=ChildIdentity(
            given_name="Oleh",
            family_name="Bondarenko",
            date_of_birth=datetime.date(2013, 1, 1),
            birth_number="",
            address="",
            date_of_birth_estimated=True,
            other_identifiers="bez dokladů; jméno podle vlastní výpovědi (smyšlené)",
        ),
    ),
)


#: A report filed in Olomouc about a child living in Plumlov (ORP Prostějov): urgent, in Prostějov's queue, where its
#: worker on duty may triage it.
DEMO_COMPETENCE_REPORT = DemoReport(
    key="report_other_orp",
    filed_by="vychovny",
    details=ReportDetails(
        facts="Žák přišel do školy se zraněním ruky, říká, že spí u kamaráda, protože se bojí jít domů.",
        child_given_name="Ondřej",
        child_family_name="Kalina",
        child_date_of_birth=datetime.date(2012, 10, 3),
        child_address="Plumlov 212, 798 03 Plumlov",
        residence_municipality="Plumlov",
        urgency_hints=("injury",),
    ),
)


@dataclass
class DemoData:
    """What the parts have seeded so far; later parts read it (e.g. a case needs ``users["koordinator"]``)."""

    municipality: Municipality
    organisations: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    created_usernames: set[str] = field(default_factory=set)
    children: dict[str, Child] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    created_cases: set[str] = field(default_factory=set)
    reports: dict[str, Report] = field(default_factory=dict)
    created_reports: set[str] = field(default_factory=set)


def seed_municipality() -> Municipality:
    municipality, _ = Municipality.objects.get_or_create(code=MUNICIPALITY_CODE, defaults={"name": MUNICIPALITY_NAME})
    if not municipality.region:
        # Its regional office sees its statistics (the migrations fill the region of the Olomouc Region's ORPs).
        municipality.region = DEMO_REGION
        municipality.save(update_fields=["region"])
    return municipality


def seed_organisations(data: DemoData) -> None:
    for spec in DEMO_ORGANISATIONS:
        organisation, _ = Organisation.objects.get_or_create(
            name=spec.name, municipality=data.municipality, defaults={"sector": spec.sector}
        )
        data.organisations[spec.key] = organisation


def seed_users(data: DemoData, *, password: str = DEMO_PASSWORD) -> None:
    """One account per demo person; the password is set only when the account is created."""
    for person in DEMO_PEOPLE:
        user = User.objects.filter(username=person.username).first()
        if user is None:
            user = User(
                username=person.username,
                first_name=person.first_name,
                last_name=person.last_name,
                email=f"{person.username}@demo.example.org",
                role=person.role,
                organisation=data.organisations[person.organisation_key],
                job_title=person.job_title,
                is_staff=person.role == Role.ADMINISTRATOR,
            )
            user.set_password(password)
            user.full_clean()
            user.save()
            data.created_usernames.add(person.username)
        data.users[person.username] = user


def seed_administrator_access(data: DemoData) -> None:
    """Administrators manage users and organisations in the admin: staff status plus exactly those permissions."""
    permissions = list(administrator_permissions())
    for user in data.users.values():
        if user.role == Role.ADMINISTRATOR:
            user.user_permissions.add(*permissions)


#: A new colleague the administrator asked for (issue 19): the account waits, inactive, for `vedouci` to confirm it on
#: *Změny účtů*; once confirmed, a link to set the password goes to the (fictional) address.
DEMO_PENDING_ACCOUNT = ("nova_pracovnice", "Tereza", "Malá", "sociální pracovnice OSPOD")


def seed_account_change(data: DemoData) -> None:
    """One account change awaiting a supervisor's confirmation, made through the service as the administrator."""
    username, first_name, last_name, job_title = DEMO_PENDING_ACCOUNT
    if User.objects.filter(username=username).exists():
        return
    account = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=f"{username}@demo.example.org",
        role=Role.OSPOD_WORKER,
        organisation=data.organisations["ospod"],
        job_title=job_title,
    )
    account_create(account=account, created_by=data.users["spravce"])


def seed_second_factor(data: DemoData) -> None:
    """A confirmed authenticator with :data:`DEMO_OTP_SECRET` and the :data:`DEMO_RECOVERY_CODES` for each demo
    login whose role needs a second factor in production; an account that already has one keeps it (and the codes
    it has left). Written directly, not through the enrolment service: that one draws a random secret."""
    for user in data.users.values():
        if user.role not in DEMO_OTP_ROLES or TOTPDevice.objects.filter(user=user).exists():
            continue
        key = base64.b32decode(DEMO_OTP_SECRET).hex()
        TOTPDevice.objects.create(user=user, name="demo authenticator", key=key, confirmed=True)
        recovery = StaticDevice.objects.create(user=user, name="demo recovery codes", confirmed=True)
        StaticToken.objects.bulk_create([StaticToken(device=recovery, token=code) for code in DEMO_RECOVERY_CODES])


def seed_children(data: DemoData) -> None:
    """Register the demo children through the real service, so their identity is sealed exactly as in use."""
    for spec in DEMO_CHILDREN:
        index = birth_number_index(normalize_birth_number(spec.birth_number))
        child = Child.objects.filter(birth_number_index=index).first()
        if child is None:
            relation, name, contact = spec.representative
            child = child_create(
                municipality=data.municipality,
                given_name=spec.given_name,
                family_name=spec.family_name,
                date_of_birth=spec.born,
                birth_number=spec.birth_number,
                address=spec.address,
                representatives=[
                    RepresentativeInput(
                        relation=relation,
                        full_name=name,
                        contact=contact,
                        parental_responsibility=relation in ("mother", "father", "guardian"),
                    )
                ],
                created_by=data.users["koordinator"],
            )
        data.children[spec.birth_number] = child


def seed_cases(data: DemoData) -> None:
    """Open the demo cases and build their teams through the services. A child with any case already is skipped."""
    for spec in DEMO_CASES:
        child = data.children[spec.birth_number]
        existing = Case.objects.filter(child=child).order_by("opened_at").first()
        if existing is not None:
            data.cases[spec.key] = existing
            continue
        data.cases[spec.key] = _seed_case(data, spec, child)
        data.created_cases.add(spec.key)


def _seed_case(data: DemoData, spec: DemoCase, child: Child) -> Case:
    users = data.users
    coordinator = users[spec.coordinator]
    case = case_open(child=child, coordinator=coordinator, opened_by=users[spec.opened_by], reason=spec.open_reason)
    memberships: dict[str, TeamMembership] = {}
    for member in spec.members:
        memberships[member.username] = team_member_add(
            case=case,
            user=users[member.username],
            team_role=TeamRole.objects.get(name_cs=member.team_role),
            valid_from=None,
            valid_until=None,
            added_by=coordinator,
        )
    for note in spec.notes:
        case_note_add(case=case, author=users[note.author], compartment=note.compartment, text=note.text)
    consent = None
    if spec.consent is not None:
        scope, giver, name = spec.consent
        consent = consent_record(
            case=case,
            recorded_by=coordinator,
            compartment=scope,
            given_by=giver,
            given_by_name=name,
            on_behalf_of_child=giver != ConsentGiver.CHILD,
            given_on=timezone.localdate(),
        )
    for shared in spec.shares:
        share_grant(
            case=case,
            granted_by=coordinator,
            recipient_user=users[shared.recipient],
            compartment=shared.compartment,
            purpose=shared.purpose,
            valid_until=timezone.localdate() + datetime.timedelta(days=shared.days),
            consent=consent if consent is not None and consent.compartment == shared.compartment else None,
        )
    for member in spec.members:
        if member.ended:
            team_member_end(membership=memberships[member.username], ended_by=coordinator, reason=member.ended)
    if spec.flow is not None:
        _seed_flow(data, spec.flow, case)
    if spec.close_reason is not None:
        _seed_closure(
            case, proposer=coordinator, approver=users[spec.closed_by or spec.coordinator], reason=spec.close_reason
        )
    return case


def _seed_closure(case: Case, *, proposer: User, approver: User, reason: str) -> None:
    """Close the case the way users do: the coordinator proposes, a supervisor takes the approval from the queue and
    approves it (``ClosureFlow``)."""
    proposal = closure_request(
        case=case, by=proposer, reason=reason, final_evaluation="Cíle plánu splněny, rodina je stabilizovaná."
    )
    task = Task.objects.get(process__closureprocess__request=proposal, flow_task=ClosureFlow.approve_closure)
    tasks.task_claim(task=task, user=approver)
    tasks.task_complete(
        task=task,
        user=approver,
        work=lambda: closure_approve(request=proposal, by=approver),
        purpose="decide closure",
    )


# --- The case flow: each step through workflows.tasks, as the task pages do it -------------------------------------


def _open_task(case: Case, node: Any, owner: User | None = None) -> Any:
    found = Task.objects.filter(process__caseprocess__case=case, flow_task=node, status__in=tasks.OPEN_STATUSES)
    if owner is not None:
        found = found.filter(owner=owner)
    return found.get()


def _seed_flow(data: DemoData, flow: DemoFlow, case: Case) -> None:
    users = data.users
    coordinator = case.coordinator
    due_on = timezone.localdate() + datetime.timedelta(days=flow.input_due_days)
    tasks.task_complete(
        task=_open_task(case, CaseFlow.request_inputs),
        user=coordinator,
        work=lambda: assessment_inputs_request(
            case=case, by=coordinator, requests=[InputRequest(member=users[name], due_on=due_on) for name in flow.asked]
        ),
        purpose="request assessment inputs",
    )
    for username, text in flow.inputs:
        member = users[username]
        task = _open_task(case, CaseFlow.provide_input, member)
        tasks.task_complete(
            task=task,
            user=member,
            work=partial(assessment_input_provide, assessment_input=CaseFlow.input_of(task), by=member, text=text),
            purpose="provide assessment input",
        )
    if flow.assessment is not None:
        needs, capacity, environment, views = flow.assessment
        tasks.task_complete(
            task=_open_task(case, CaseFlow.write_assessment),
            user=coordinator,
            work=lambda: assessment_write(
                case=case,
                by=coordinator,
                child_needs=needs,
                parenting_capacity=capacity,
                family_environment=environment,
                child_views=views,
            ),
            purpose="write assessment",
        )
    if flow.plan is not None:
        _seed_review_due(data, flow.plan, case)
    if flow.conference is not None:
        _seed_conference_plan(data, flow.conference, case)
    if flow.opened_days_ago:
        _move_opening_back(case, flow.opened_days_ago)


def _move_opening_back(case: Case, days: int) -> None:
    """The services stamp "now"; a demo case at a later stage must look opened weeks ago. Only the opening moves (the
    IPOD month runs from it, § 10(3)(d)), and with it an open PLAN deadline, recomputed by the same rule the flow used:
    opened 40 days ago, the month has passed and ``check_deadlines`` finds the plan overdue and escalates it (to the
    coordinator after the authority's grace, to the supervisors after twice that). Queryset updates: no service
    changes the past, and nothing here is audited content."""
    opened_at = timezone.now() - datetime.timedelta(days=days)
    Case.objects.filter(pk=case.pk).update(opened_at=opened_at)
    Deadline.objects.open().filter(case=case, kind=DeadlineKind.PLAN).update(due_at=ipod_due(opened_at))
    case.refresh_from_db()


def _seed_review_due(data: DemoData, spec: DemoPlan, case: Case) -> None:
    """Draft, submit and approve the plan through the flow (the coordinator drafts; a supervisor who did not draft
    approves from the queue: four eyes), which opens the review task. Then the past is put in place: the plan has
    been in force ``approved_days_ago`` days and its review falls due in ``review_in_days`` days, inside the
    authority's due-soon window, so ``check_deadlines`` warns the coordinator."""
    coordinator = case.coordinator
    approver = data.users[spec.approved_by]
    draft_task = _open_task(case, CaseFlow.draft_plan)
    plan = plan_in_work(case)
    assert plan is not None  # the draft task starts the version in work
    review_on = timezone.localdate() + datetime.timedelta(days=spec.review_in_days)
    plan_save(
        plan=plan,
        by=coordinator,
        goals=list(spec.goals),
        support_offered=spec.support_offered,
        child_views=spec.child_views,
        parents_views=spec.parents_views,
        next_review_on=review_on,
    )
    tasks.task_complete(
        task=draft_task,
        user=coordinator,
        work=lambda: plan_submit(plan=plan, by=coordinator),
        purpose="submit plan",
    )
    approval = _open_task(case, CaseFlow.approve_plan)
    tasks.task_claim(task=approval, user=approver)
    approval.refresh_from_db()
    tasks.task_complete(
        task=approval,
        user=approver,
        work=lambda: plan_approve(plan=plan, by=approver, next_review_on=review_on),
        purpose="decide plan",
    )
    approved_at = timezone.now() - datetime.timedelta(days=spec.approved_days_ago)
    Plan.objects.filter(pk=plan.pk).update(submitted_at=approved_at, approved_at=approved_at)
    # The review deadline the flow set is the review day rolled to a working day; the demo wants it due soon
    # whatever weekday it is seeded on: the end of the review day itself.
    Deadline.objects.open().filter(case=case, kind=DeadlineKind.REVIEW).update(due_at=end_of_day(review_on))


# --- Reports: filed through the report flow; the triage taken from the queue, as the triage page does it -----------


def _seed_conference_plan(data: DemoData, spec: DemoConference, case: Case) -> None:
    """Schedule the conference, record it, its decisions and the sign-off; draft the plan from its decisions, submit
    it and have a supervisor approve it from the queue — all through the services and the flow, as the pages do.
    The conference is scheduled in the future (the only way the service allows) and moved to the past before it is
    recorded; after the approval one action's due date is moved into the past (with its task's deadline), so the
    board and ``check_deadlines`` show an overdue action. Queryset updates change dates only, nothing audited."""
    users = data.users
    coordinator = case.coordinator
    members = [m.user for m in TeamMembership.objects.current().filter(case=case).select_related("user")]
    conference = conference_schedule(
        case=case,
        by=coordinator,
        starts_at=timezone.now() + datetime.timedelta(hours=1),
        duration_minutes=90,
        place=spec.place,
        online_link="",
        members=members,
        participants=[ParticipantInput(name=spec.participant[0], relation=spec.participant[1])],
    )
    held_at = timezone.now() - datetime.timedelta(days=spec.held_days_ago)
    Conference.objects.filter(pk=conference.pk).update(starts_at=held_at)
    conference.refresh_from_db()
    invitees = ConferenceInvitee.objects.filter(conference=conference).values_list("pk", flat=True)
    conference_record(
        conference=conference,
        by=coordinator,
        attendance={str(pk): Attendance.ATTENDED for pk in invitees},
        child_participation=spec.child_participation,
        minutes=spec.minutes,
    )
    today = timezone.localdate()
    for decision in spec.decisions:
        owner_user, owner_organisation = _demo_owner(data, decision.owner)
        conference_decision_add(
            conference=conference,
            by=coordinator,
            text=decision.text,
            owner_user=owner_user,
            owner_organisation=owner_organisation,
            due_on=today + datetime.timedelta(days=decision.due_in_days),
        )
    conference_sign_off(conference=conference, by=coordinator)
    draft_task = _open_task(case, CaseFlow.draft_plan)
    plan = plan_in_work(case)
    assert plan is not None  # the draft task starts the version in work
    imported = plan_decisions_import(plan=plan, by=coordinator, conference=conference)
    plan_save(
        plan=plan,
        by=coordinator,
        goals=list(spec.goals),
        support_offered=spec.support_offered,
        child_views=spec.child_views,
        parents_views=spec.parents_views,
        next_review_on=None,
        actions=[
            ActionInput(
                what=decision.text,
                owner_user_id=action.owner_user_id,
                owner_organisation_id=action.owner_organisation_id,
                due_on=action.due_on,
                success_measure=decision.success_measure,
                goal=decision.goal,
                decision_id=action.decision_id,
            )
            for decision, action in zip(spec.decisions, imported, strict=True)
        ],
    )
    tasks.task_complete(
        task=draft_task, user=coordinator, work=lambda: plan_submit(plan=plan, by=coordinator), purpose="submit plan"
    )
    approver = users[spec.approved_by]
    approval = _open_task(case, CaseFlow.approve_plan)
    tasks.task_claim(task=approval, user=approver)
    approval.refresh_from_db()
    months = AuthoritySettings.for_municipality(case.municipality_id).review_months
    review_on = add_months(today, months)
    tasks.task_complete(
        task=approval,
        user=approver,
        work=lambda: plan_approve(plan=plan, by=approver, next_review_on=review_on),
        purpose="decide plan",
    )
    for username, text in spec.progress:
        owner = users[username]
        action = PlanAction.objects.get(plan=plan, owner_user=owner)
        action_report(action=action, by=owner, text=text)
    late = PlanAction.objects.filter(plan=plan).order_by("position", "id")[spec.overdue_action]
    late_on = today - datetime.timedelta(days=spec.overdue_days)
    PlanAction.objects.filter(pk=late.pk).update(due_on=late_on)
    Deadline.objects.open().filter(kind=DeadlineKind.PLAN_ACTION, task__process__actionprocess__action=late).update(
        due_at=end_of_day(late_on)
    )


def _demo_owner(data: DemoData, owner: str) -> tuple[User | None, Organisation | None]:
    """A decision's owner: a login, or ``org:<key>`` for an organisation of the demo."""
    if owner.startswith("org:"):
        name = next(o.name for o in DEMO_ORGANISATIONS if o.key == owner.removeprefix("org:"))
        return None, Organisation.objects.get(name=name)
    return data.users[owner], None


def _triage_task(report: Report) -> Any:
    return Task.objects.get(process__reportprocess__report=report, flow_task=ReportFlow.triage)


def seed_reports(data: DemoData) -> None:
    """File the demo reports through ``report_receive`` and take the triage of the one that is in triage. A report
    recorded by the same person through the same channel already is left alone (so is its triage)."""
    for spec in DEMO_REPORTS:
        filed_by = data.users[spec.filed_by]
        channel = spec.details.channel or ReportChannel.WEB_FORM
        existing = (
            Report.objects.filter(municipality=data.municipality, recorded_by=filed_by, channel=channel)
            .order_by("received_at")
            .first()
        )
        if existing is not None:
            data.reports[spec.key] = existing
            continue
        report = report_receive(filed_by=filed_by, details=spec.details)
        if spec.claimed_by:
            tasks.task_claim(task=_triage_task(report), user=data.users[spec.claimed_by])
            report.refresh_from_db()
        if spec.triaged_by:
            _seed_triage(data, spec, report)
        data.reports[spec.key] = report
        data.created_reports.add(spec.key)


def _seed_triage(data: DemoData, spec: DemoReport, report: Report) -> None:
    """Triage the report "at risk, urgent" through the flow, as the triage page does: the child is registered (with
    or without a birth number) and the case opened with the spec's coordinator."""
    supervisor = data.users[spec.triaged_by]
    task = _triage_task(report)
    tasks.task_claim(task=task, user=supervisor)
    task.refresh_from_db()
    tasks.task_complete(
        task=task,
        user=supervisor,
        work=partial(
            report_triage,
            report=report,
            decided_by=supervisor,
            urgent=True,
            at_risk=True,
            coordinator=data.users[spec.coordinator],
            child=spec.child,
        ),
        purpose="triage report",
    )
    report.refresh_from_db()


def seed_competence(data: DemoData) -> None:
    """The Olomouc Region's ORP table, Prostějov as a second authority with a supervisor and a worker, the duty
    roster of both (this week, nights included), and one report routed to Prostějov by the child's residence.
    Idempotent: what exists is left alone."""
    competence_ensure_defaults()
    prostejov = Municipality.objects.get(code=SECOND_AUTHORITY_CODE)
    ospod_pv, _ = Organisation.objects.get_or_create(
        name=SECOND_AUTHORITY_OSPOD, municipality=prostejov, defaults={"sector": Sector.OSPOD}
    )
    data.organisations["ospod_pv"] = ospod_pv
    for person in DEMO_SECOND_AUTHORITY_PEOPLE:
        user = User.objects.filter(username=person.username).first()
        if user is None:
            user = User(
                username=person.username,
                first_name=person.first_name,
                last_name=person.last_name,
                email=f"{person.username}@demo.example.org",
                role=person.role,
                organisation=ospod_pv,
                job_title=person.job_title,
            )
            user.set_password(DEMO_PASSWORD)
            user.full_clean()
            user.save()
            data.created_usernames.add(person.username)
        data.users[person.username] = user
    if settings.DEMO_OTP_DEVICES:
        seed_second_factor(data)
    today = timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    for username, days in DEMO_DUTY:
        worker = data.users[username]
        if DutyShift.objects.filter(worker=worker, ends_at__gt=timezone.now()).exists():
            continue
        assert worker.organisation is not None
        home = worker.organisation.municipality_id == data.municipality.pk
        supervisor = data.users["vedouci" if home else "vedouci_pv"]
        duty_shift_add(worker=worker, starts_at=start, ends_at=start + datetime.timedelta(days=days), by=supervisor)
    spec = DEMO_COMPETENCE_REPORT
    filer = data.users[spec.filed_by]
    # Not in ``data.reports``: the closing lines list the Olomouc authority's reports and cases.
    if not Report.objects.filter(municipality=prostejov, recorded_by=filer).exists():
        report_receive(filed_by=filer, details=spec.details)


#: The planned cover: Olomouc's head (``vedouci``) on leave in a fortnight for a week; Prostějov's head stands in.
DEMO_COVER_STARTS_IN_DAYS = 14
DEMO_COVER_DAYS = 7


def seed_supervisor_cover(data: DemoData) -> None:
    """One future supervisor cover, so the *Zastupování* page has something to show (``vedouci`` names
    ``vedouci_pv``). Idempotent: skipped when ``vedouci`` already has a cover that has not ended."""
    supervisor, deputy = data.users["vedouci"], data.users["vedouci_pv"]
    if SupervisorCover.objects.filter(supervisor=supervisor, ends_at__gt=timezone.now()).exists():
        return
    first = timezone.localdate() + datetime.timedelta(days=DEMO_COVER_STARTS_IN_DAYS)
    starts_at = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    supervisor_cover_add(
        supervisor=supervisor,
        deputy=deputy,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(days=DEMO_COVER_DAYS),
        note="Zastupuje vedoucí OSPOD Prostějov, tel. na podatelnu.",
        by=supervisor,
    )


# --- Stages, for the closing lines: read from the flows' state, so a second run tells the truth too ----------------

#: The case flow's human nodes → the stage an open task of theirs puts the case in (the first one open wins).
_CASE_STAGES = {
    CaseFlow.request_inputs: "open: inputs not requested yet",
    CaseFlow.provide_input: "assessment: inputs requested",
    CaseFlow.write_assessment: "assessment: inputs in, assessment not written",
    CaseFlow.reassess: "review: re-assessment",
    CaseFlow.draft_plan: "plan: drafting",
    CaseFlow.approve_plan: "plan: awaiting approval",
    CaseFlow.review: "plan in force: review",
}


#: A night on duty: ``koordinator`` (no relationship to case 2) broke the glass into it; a supervisor reviews it.
DEMO_BREAK_GLASS = (
    "koordinator",
    "case_2",
    "Služba v noci: volala Policie ČR, dítě bylo nalezeno samo; potřebuji kontakt na rodinu a rizika.",
)


def seed_break_glass(data: DemoData) -> None:
    """One past break-glass awaiting review, so a supervisor sees the queue (*Kontrola přístupů* → break-glass): the
    grant through its service (audited, the coordinator and the supervisors notified), the case page read through
    the gate (marked reads), then ended. Idempotent: skipped once the user has any grant."""
    username, case_key, reason = DEMO_BREAK_GLASS
    user, case = data.users[username], data.cases[case_key]
    if BreakGlassGrant.objects.filter(user=user).exists() or load_case_access(user, case).visible:
        return
    grant = break_glass_open(user=user, case=case, reason=reason, minutes=60)
    case_disclosed(user=user, case=case, purpose="case page")
    # Over: the access ended once the worker had what they needed (the record keeps both times).
    BreakGlassGrant.objects.filter(pk=grant.pk).update(ended_at=timezone.now())


def case_stage(case: Case) -> str:
    """What stage the case is at, in words (no names): its status and open CaseFlow tasks and their deadlines."""
    if not case.is_open:
        return "closed"
    open_tasks = Task.objects.filter(process__caseprocess__case=case, status__in=tasks.OPEN_STATUSES)
    open_nodes = {task.flow_task for task in open_tasks}
    stage = next((label for node, label in _CASE_STAGES.items() if node in open_nodes), "open")
    if CaseFlow.provide_input in open_nodes:
        inputs = case.assessment_inputs.values_list("status", flat=True)
        provided = sum(1 for status in inputs if status == InputStatus.PROVIDED)
        stage += f" ({provided} of {len(inputs)} provided)"
    now = timezone.now()
    for deadline in Deadline.objects.open().filter(case=case, task__in=open_tasks).order_by("due_at"):
        if deadline.due_at < now:
            stage += f", {deadline.kind} deadline overdue since {timezone.localdate(deadline.due_at)}"
        elif deadline.kind == DeadlineKind.REVIEW:
            stage += f" due {timezone.localdate(deadline.due_at)}"
    actions = PlanAction.objects.filter(plan__case=case, plan__status=PlanStatus.CURRENT)
    if actions:
        late = sum(1 for action in actions if action.is_overdue())
        stage += f"; {len(actions)} plan actions in the owners' inboxes ({late} overdue)"
    return stage


def report_stage(report: Report) -> str:
    if report.status in (ReportStatus.RECEIVED, ReportStatus.IN_TRIAGE) and report.decided_at is None:
        task = _triage_task(report)
        if task.owner_id is None:
            return "new: waiting in the supervisors' triage queue"
        return f"in triage: taken by {task.owner.username}, not decided"
    return str(report.get_status_display())


#: The demo's old file for the shredding review: a child known to OSPOD as an infant 17 years ago, the case closed
#: that year, so its retention period (15 years after that calendar year) has ended and ``apply_retention`` proposes
#: it. Fictional. Dates are relative to today, so the child is always under 18.
RETENTION_DEMO_CASE_NUMBER = 17
#: The fictional child of that old file: given name, family name, address, the mother's name.
RETENTION_DEMO_CHILD = ("Tobiáš", "Zahradník", "Na Vozovce 3, 779 00 Olomouc", "Alena Zahradníková")
RETENTION_DEMO_NOTE = "Šetření po oznámení porodnice: matka péči zvládá, podpora rodiny zajištěna. Dítě není ohrožené."


def _demo_birth_number(born: datetime.date) -> str:
    """A valid (fictional) birth number of a boy born on ``born``: the ten digits divisible by 11."""
    prefix = int(born.strftime("%y%m%d")) * 10000
    serial = next(n for n in range(1000, 10000) if (prefix + n) % 11 == 0)
    digits = f"{prefix + serial:010d}"
    return f"{digits[:6]}/{digits[6:]}"


def seed_retention(data: DemoData) -> None:
    """One old closed case whose period has ended (``manage.py apply_retention`` proposes it; ``serve_demo`` runs
    that command at start). Made through the services, then moved back in time like the other demo dates. Skipped
    when it exists."""
    today = timezone.localdate()
    year = today.year - 17
    reference = data.municipality.case_reference(year, RETENTION_DEMO_CASE_NUMBER)
    existing = Case.objects.filter(reference=reference).first()
    if existing is not None:
        data.cases["retention"] = existing
        return
    coordinator = data.users["koordinator"]
    given_name, family_name, address, mother = RETENTION_DEMO_CHILD
    child = child_create(
        municipality=data.municipality,
        given_name=given_name,
        family_name=family_name,
        date_of_birth=datetime.date(year, 3, 15),
        birth_number=_demo_birth_number(datetime.date(year, 3, 15)),
        address=address,
        representatives=[RepresentativeInput(relation="mother", full_name=mother, contact="")],
        created_by=coordinator,
    )
    case = case_open(child=child, coordinator=coordinator, opened_by=data.users["vedouci"], reason=OpenReason.REPORT)
    case_note_add(
        case=case,
        author=coordinator,
        compartment=Compartment.SOCIAL,
        text=RETENTION_DEMO_NOTE,
    )
    _seed_closure(case, proposer=coordinator, approver=data.users["vedouci"], reason=CloseReason.NOT_AT_RISK)
    opened = timezone.make_aware(datetime.datetime(year, 4, 2, 9, 0))
    Case.objects.filter(pk=case.pk).update(
        year=year,
        number=RETENTION_DEMO_CASE_NUMBER,
        reference=reference,
        opened_at=opened,
        closed_at=opened + datetime.timedelta(days=75),
    )
    case.refresh_from_db()
    data.cases["retention"] = case
    data.created_cases.add("retention")


def seed_all() -> DemoData:
    """Run every part in order, in one transaction. Later features append their parts here."""
    with audit.atomic():  # its audit rows appended last (docs/adr/0011-lock-order.md)
        data = DemoData(municipality=seed_municipality())
        seed_organisations(data)
        seed_users(data)
        seed_administrator_access(data)
        if settings.DEMO_OTP_DEVICES:
            seed_second_factor(data)
        seed_children(data)
        team_roles_ensure_defaults()
        seed_cases(data)
        seed_reports(data)
        seed_competence(data)
        seed_file_inspection(data)
        seed_retention(data)
        seed_account_change(data)
        seed_supervisor_cover(data)
        seed_service_directory(by=None)
    # Outside the transaction: the break-glass reads go through the gate, whose audit rows commit before any plaintext.
    seed_break_glass(data)
    # Outside it too: a referral's letter is read through the gate (services.referrals.demo).
    seed_referrals(case=data.cases["case_1"], coordinator=data.users["koordinator"], password=DEMO_PASSWORD)
    return data


#: The fictional parent who inspects the first demo case's file (§ 55(3)), added if the child has none with parental
#: responsibility.
DEMO_INSPECTING_PARENT = ("father", "Tomáš Demo-Rodič", "+420 600 000 555")


def seed_file_inspection(data: DemoData) -> None:
    """One completed § 55 inspection on the first demo case: prepared by its coordinator for a parent with parental
    responsibility, approved by the supervisor, recorded as a copy handed over. Skipped when the case has one."""
    case = Case.objects.filter(child=data.children[DEMO_CASES[0].birth_number]).order_by("opened_at").first()
    if case is None or FileInspection.objects.filter(case=case).exists():
        return
    coordinator = case.coordinator
    parent = LegalRepresentative.objects.filter(child=case.child, parental_responsibility=True).first()
    if parent is None:
        relation, name, contact = DEMO_INSPECTING_PARENT
        parent = child_representative_add(
            child=case.child,
            rep=RepresentativeInput(relation=relation, full_name=name, contact=contact, parental_responsibility=True),
            by=coordinator,
        )
    inspection = inspection_prepare(
        case=case,
        by=coordinator,
        recipient=InspectionRecipient.REPRESENTATIVE,
        representative_id=parent.pk,
        sections=InspectionSection.values,
    )
    inspection_decide(inspection=inspection, by=data.users["vedouci"], approve=True)
    inspection_record(inspection=inspection, by=coordinator, inspected_at=timezone.now(), mode=InspectionMode.COPIED)


class Command(BaseCommand):
    help = "Create the fictional Olomouc demo data and logins (idempotent; refuses production settings)."

    def handle(self, *args: Any, **options: Any) -> None:
        if (settings.SETTINGS_MODULE or "").endswith(".prod"):
            raise CommandError("seed_demo creates accounts with a published password; it never runs in production.")
        data = seed_all()
        self.stdout.write(self.style.SUCCESS(f"Demo data for {data.municipality} ({data.municipality.code}) ready."))
        self.stdout.write(self._logins_table(data))
        self.stdout.write("")
        self.stdout.write(self._cases_table(data))
        self.stdout.write("")
        self.stdout.write(self._stages(data))
        self.stdout.write(f"Password for every demo login: {DEMO_PASSWORD}")
        self.stdout.write("Accounts that existed before kept their password.")
        if settings.DEMO_OTP_DEVICES:
            roles = ", ".join(sorted(str(Role(role).label) for role in DEMO_OTP_ROLES))
            self.stdout.write(f"Second factor for {roles}: `oathtool --totp -b {DEMO_OTP_SECRET}` prints the code;")
            self.stdout.write(f"or a recovery code (each works once): {', '.join(DEMO_RECOVERY_CODES)}")

    @staticmethod
    def _logins_table(data: DemoData) -> str:
        rows = [("login", "name", "role", "organisation", "account")]
        for username, user in data.users.items():
            rows.append(
                (
                    username,
                    user.get_full_name(),
                    str(user.get_role_display()),
                    str(user.organisation or ""),
                    "new" if username in data.created_usernames else "existing",
                )
            )
        return _table(rows)

    @staticmethod
    def _cases_table(data: DemoData) -> str:
        """Case references and logins only: no child's name goes to the terminal."""
        rows = [("case", "status", "coordinator", "current team", "record")]
        for key, case in data.cases.items():
            team = TeamMembership.objects.current().filter(case=case).order_by("added_at")
            rows.append(
                (
                    case.reference,
                    str(case.get_status_display()),
                    case.coordinator.username,
                    ", ".join(m.user.username for m in team.select_related("user")) or "-",
                    "new" if key in data.created_cases else "existing",
                )
            )
        return _table(rows)

    @staticmethod
    def _stages(data: DemoData) -> str:
        """One line per demo case and report: its reference and stage, never a name."""
        lines = ["Stages:"]
        for case in data.cases.values():
            case.refresh_from_db()
            lines.append(f"  {case.reference}: {case_stage(case)}")
        for report in data.reports.values():
            report.refresh_from_db()
            lines.append(f"  {report.reference}: {report_stage(report)}")
        return "\n".join(lines)


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths).rstrip())
    return "\n".join(lines)
