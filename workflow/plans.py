"""The plan and its settings, and the government bodies letters go to."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from documents.digits import western_digits
from documents.text import DIGITS, LANGUAGES
from states import SHORTLIST_PLACES, Action, State
from workflow import fields, ledger
from workflow.dates import happened
from workflow.errors import DuplicateError, InvalidInputError, NotFoundError, NoWorkspaceError, WorkflowError
from workflow.models import Criterion, Entity, Plan, Proposal
from workflow.names import name_key
from workflow.templates import templates_folder
from workflow.vocabulary import (
    DEFAULT_REPLY_WITHIN,
    MAX_REPLY_WITHIN,
    RANKS,
    SEED_CRITERIA,
    addressee_line,
    organisation_addressee,
)

DEFAULT_TITLE = "الخطة الوطنية الخامسة لمبادرة شراكة الحكومات الشفافة"
DEFAULT_PERIOD = "2021-2023"
DEFAULT_ISSUER = "وزارة التخطيط والتعاون الدولي – وحدة الحكومة الشفافة"
DEFAULT_SIGNATORY_TITLE = "وزير التخطيط والتعاون الدولي"
DEFAULT_LETTER_PREFIX = "ت ح/5"
# The seed: seven ideas shortlisted, to be narrowed to five commitments.
DEFAULT_SHORTLIST_SIZE = 7
DEFAULT_COMMITMENT_TARGET = 5
# Days a body has to answer a referral (or a follow-up) before its reply is overdue.
DEFAULT_TITLE_EN = "Fifth National Action Plan of the Open Government Partnership"
DEFAULT_ISSUER_EN = "Ministry of Planning and International Cooperation – Open Government Unit"
DEFAULT_SIGNATORY_TITLE_EN = "Minister of Planning and International Cooperation"
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class PlanSettings:
    """What `ogp init` may set; None leaves a setting as it is (or at its default)."""

    title: str | None = None
    period: str | None = None
    shortlist_size: int | None = None
    commitment_target: int | None = None
    letter_prefix: str | None = None
    letter_prefix_en: str | None = None
    issuer: str | None = None
    signatory_name: str | None = None
    signatory_title: str | None = None
    title_en: str | None = None
    issuer_en: str | None = None
    signatory_title_en: str | None = None
    digits: str | None = None
    templates_dir: str | None = None
    copy_to: tuple[str, ...] | None = None
    logo: bytes | None = None  # b"" removes the logo
    quorum: int | None = None  # 0 returns to the default, a majority of the working group
    reply_within: int | None = None  # days
    submitted_on: dt.date | None = None  # the day the plan was submitted to OGP


def current_plan(session: Session, *, lock: bool = False) -> Plan:
    """The workspace's plan; with `lock`, the record's write lock is taken first and held until
    the transaction ends (see `ledger.lock_record`)."""
    if lock:
        ledger.lock_record(session)
    # Held in the session's info, not only its identity map (which lets go of an object nobody
    # holds, so a batch read the plan again for every proposal it moved).
    plan = session.info.get("ogp_plan")
    if isinstance(plan, Plan) and plan in session:
        return plan
    plan = session.scalars(select(Plan).order_by(Plan.id).limit(1)).first()
    if plan is None:
        raise NoWorkspaceError("this database", "it has tables but no plan")
    session.info["ogp_plan"] = plan
    return plan


def seed_leftovers(plan: Plan) -> list[str]:
    """The settings still those of the seed's plan (the fifth, 2021-2023) when the plan is another
    one (its title or period changed): its letters' reference prefix and English title, which a
    coordinator starting a new plan easily leaves as they were; and, whatever the plan, an English
    signatory title or issuer left at the seed's when the Arabic one was changed (English letters
    would be signed by the Minister while Arabic ones are signed by the unit's director). [] when
    none are; each item is a sentence (without its full stop) naming the setting, its value and
    the option that sets it."""
    left = []
    if plan.signatory_title != DEFAULT_SIGNATORY_TITLE and plan.signatory_title_en == DEFAULT_SIGNATORY_TITLE_EN:
        left.append(
            f"English letters are signed as «{DEFAULT_SIGNATORY_TITLE_EN}» while Arabic ones are signed as "
            f"«{plan.signatory_title}» (--signatory-title-en)"
        )
    if plan.issuer != DEFAULT_ISSUER and plan.issuer_en == DEFAULT_ISSUER_EN:
        left.append(
            f"English letters are headed «{DEFAULT_ISSUER_EN}» while Arabic ones are headed «{plan.issuer}» "
            "(--issuer-en)"
        )
    if plan.title == DEFAULT_TITLE and plan.period == DEFAULT_PERIOD:
        return left
    if plan.letter_prefix == DEFAULT_LETTER_PREFIX:
        left.append(
            f"this plan is not the seed's fifth, but letters are numbered «{DEFAULT_LETTER_PREFIX}/…», the fifth "
            "plan's prefix (--letter-prefix)"
        )
    if plan.title_en == DEFAULT_TITLE_EN:
        left.append(
            f"this plan is not the seed's fifth, but English letters name the plan «{DEFAULT_TITLE_EN}» (--plan-en)"
        )
    return left


def configure_plan(
    session: Session,
    settings: PlanSettings,
    *,
    actor: str,
    now: dt.datetime | None = None,
    workspace_folder: Path | None = None,
) -> tuple[Plan, bool]:
    """Create the plan with the seed's criteria, or change its settings; return (plan, created).

    A recorded step (`configure_plan`); setting values to what they are records nothing.
    Raises `InvalidInputError` naming the setting; `submitted-on` is refused as `dates.happened`
    says (in the future, or before the OGP's launch); `templates-dir`, when `workspace_folder`
    (the folder a relative one is read from) is given, must be a folder that exists: letters
    written while it is missing would be refused.
    """
    with ledger.recorded(session, Action.CONFIGURE_PLAN, actor=actor, now=now, optional=True) as step:
        plan = session.scalars(select(Plan).order_by(Plan.id).limit(1)).first()
        created = plan is None
        if plan is None:
            plan = Plan(
                title=DEFAULT_TITLE,
                period=DEFAULT_PERIOD,
                shortlist_size=DEFAULT_SHORTLIST_SIZE,
                commitment_target=DEFAULT_COMMITMENT_TARGET,
                letter_prefix=DEFAULT_LETTER_PREFIX,
                letter_prefix_en="",
                issuer=DEFAULT_ISSUER,
                signatory_name="",
                signatory_title=DEFAULT_SIGNATORY_TITLE,
                title_en=DEFAULT_TITLE_EN,
                issuer_en=DEFAULT_ISSUER_EN,
                signatory_title_en=DEFAULT_SIGNATORY_TITLE_EN,
                digits="western",
                templates_dir="",
                copy_to=[],
                logo=None,
                quorum=None,
                reply_within=DEFAULT_REPLY_WITHIN,
                submitted_on=None,
            )
            session.add(plan)
            session.flush()
            for position, (code, name_ar, name_en) in enumerate(SEED_CRITERIA, start=1):
                session.add(
                    Criterion(
                        plan_id=plan.id,
                        position=position,
                        code=code,
                        name_ar=name_ar,
                        name_en=name_en,
                        weight=1,
                        scale_min=1,
                        scale_max=5,
                    )
                )
        _apply_settings(session, plan, settings, step.now.astimezone().date())
        if settings.templates_dir and workspace_folder is not None:
            try:
                templates_folder(plan, workspace_folder)
            except WorkflowError:
                raise InvalidInputError(
                    "plan", "templates-dir",
                    f"{settings.templates_dir!r} is not a folder (a relative one is read from the workspace's "
                    f"folder, {workspace_folder}); 'ogp templates export DIR' writes the defaults into a new one",
                ) from None  # fmt: skip
        step.reason = "created the plan" if created else "changed the plan's settings"
    return plan, created


# A plan's period as typed: two years, ASCII, Arabic-Indic or Persian digits, a hyphen, dash or slash
# between them (2021-2023, ٢٠٢١–٢٠٢٣, 2021/2023).
PERIOD_PATTERN = re.compile(r"^\s*(\d{4})\s*[-–—/]\s*(\d{4})\s*$")
# OGP action plans run two years, some four (OGP Articles of Governance; the National Handbook).
MAX_PLAN_YEARS = 4


def parse_period(text: str) -> str:
    """A plan's period as stored: "YYYY-YYYY" (`PERIOD_PATTERN` says what is read). Raises
    ValueError naming the problem: not two years, a second before the first, longer than
    `MAX_PLAN_YEARS`. Every check of months against the plan (commitments, milestones) rests on it."""
    match = PERIOD_PATTERN.match(western_digits(text))
    if not match:
        raise ValueError(f"{text.strip()!r} is not a period: give two years, e.g. 2021-2023")
    first, last = int(match.group(1)), int(match.group(2))
    if last < first:
        raise ValueError(f"{text.strip()!r} ends before it starts (give it as {last}-{first}?)")
    if last - first > MAX_PLAN_YEARS:
        raise ValueError(f"{text.strip()!r} is {last - first} years; an OGP action plan runs at most {MAX_PLAN_YEARS}")
    return f"{first}-{last}"


def _apply_settings(session: Session, plan: Plan, settings: PlanSettings, today: dt.date) -> None:
    for name in (
        "title", "period", "letter_prefix", "letter_prefix_en", "issuer", "signatory_name", "signatory_title",
        "title_en", "issuer_en", "signatory_title_en", "templates_dir",
    ):  # fmt: skip
        value = getattr(settings, name)
        if value is not None:
            value = fields.line(value, "plan", name.replace("_", "-"), limit=fields.column_limit(getattr(Plan, name)))
            if not value and name in ("title", "issuer", "title_en", "issuer_en"):
                raise InvalidInputError("plan", name.replace("_", "-"), "must not be empty")
            if name == "period":
                try:
                    value = parse_period(value)
                except ValueError as exc:
                    raise InvalidInputError("plan", "period", str(exc)) from None
            if getattr(plan, name) != value:
                setattr(plan, name, value)
    if settings.digits is not None:
        if settings.digits not in DIGITS:
            raise InvalidInputError("plan", "digits", f"{settings.digits!r} is not one of {', '.join(DIGITS)}")
        plan.digits = settings.digits
    if settings.copy_to is not None:
        plan.copy_to = [line for line in (fields.line(c, "plan", "copy-to") for c in settings.copy_to) if line]
    if settings.logo is not None:
        plan.logo = settings.logo or None
    if settings.quorum is not None:
        if settings.quorum < 0:
            raise InvalidInputError("plan", "quorum", f"must be 0 (a majority) or more, not {settings.quorum}")
        plan.quorum = settings.quorum or None
    if settings.reply_within is not None:
        if not 1 <= settings.reply_within <= MAX_REPLY_WITHIN:
            raise InvalidInputError(
                "plan", "reply-within", f"must be between 1 and {MAX_REPLY_WITHIN} days, not {settings.reply_within}"
            )
        plan.reply_within = settings.reply_within
    if settings.submitted_on is not None:
        problem = happened(settings.submitted_on, today, what="the plan's submission")
        if problem:
            raise InvalidInputError("plan", "submitted-on", problem)
        plan.submitted_on = settings.submitted_on
    _set_cap(session, plan, "shortlist_size", settings.shortlist_size, SHORTLIST_PLACES)
    _set_cap(session, plan, "commitment_target", settings.commitment_target, {State.COMMITTED})
    if plan.commitment_target > plan.shortlist_size:
        raise InvalidInputError(
            "plan",
            "commitment-target",
            f"{plan.commitment_target} is more than the shortlist size {plan.shortlist_size}",
        )


def _set_cap(session: Session, plan: Plan, name: str, value: int | None, states: set[State] | frozenset[State]) -> None:
    if value is None:
        return
    option = name.replace("_", "-")
    if value < 1:
        raise InvalidInputError("plan", option, f"must be at least 1, not {value}")
    taken = count_in(session, plan, states)
    if value < taken:
        raise InvalidInputError(
            "plan", option, f"{value} is fewer than the {taken} proposals that already hold a place"
        )
    setattr(plan, name, value)


def count_in(session: Session, plan: Plan, states: set[State] | frozenset[State]) -> int:
    """How many of the plan's proposals are in one of `states`."""
    query = select(func.count(Proposal.id)).where(Proposal.plan_id == plan.id, Proposal.state.in_(list(states)))
    return int(session.scalar(query) or 0)


def add_entity(
    session: Session,
    name: str,
    code: str | None = None,
    addressee: str | None = None,
    *,
    actor: str,
    rank: str | None = None,
    title: str | None = None,
    language: str = "ar",
    now: dt.datetime | None = None,
) -> Entity:
    """Register a government body (a recorded step). Letters address it by `addressee` if given,
    else by its official's rank and title («معالي وزير الصحة المحترم»), else «السادة <name>
    المحترمين». Names compare by `names.name_key`. Raises `InvalidInputError` or `DuplicateError`
    naming the field."""
    name = fields.line(name, "government body", "name")
    if not name:
        raise InvalidInputError("government body", "name", "must not be empty")
    record = f"government body {name!r}"
    if language not in LANGUAGES:
        raise InvalidInputError(record, "language", f"{language!r} is not one of {', '.join(LANGUAGES)}")
    title = fields.line(title or "", record, "title") or None
    if rank is not None:
        if rank not in RANKS:
            raise InvalidInputError(record, "rank", f"{rank!r} is not one of {', '.join(RANKS)}")
        if title is None:
            raise InvalidInputError(record, "title", "a rank needs the official's title, e.g. 'وزير الصحة'")
        if addressee:
            raise InvalidInputError(record, "addressee", "give either --addressee or --rank with --title, not both")
    if code is not None:
        code = code.strip()
        if not CODE_PATTERN.match(code):
            raise InvalidInputError(
                record,
                "code",
                f"{code!r} must be 1–32 Latin letters, digits, '-' or '_', starting with a letter or digit",
            )
    addressee = fields.line(addressee or "", record, "addressee")
    if not addressee:
        addressee = addressee_line(language, rank, title or "") if rank else organisation_addressee(language, name)
    with ledger.recorded(session, Action.ADD_ENTITY, actor=actor, now=now, reason=name):
        check_body_names(session, record, name=name, code=code)
        entity = Entity(name=name, code=code, addressee=addressee, rank=rank, title=title, language=language)
        session.add(entity)
    return entity


def check_body_names(
    session: Session,
    record: str,
    *,
    name: str | None = None,
    code: str | None = None,
    other_than: Entity | None = None,
    options: tuple[str, str] = ("name", "code"),
) -> None:
    """Refuse a name or code that would name another body than the one being registered or
    corrected (`other_than`): a name equal (`names.name_key`) to another body's name or code, a
    code equal to another body's code (any case) or name; a body is found by either
    (`EntityIndex`). Raises `DuplicateError` or `InvalidInputError` naming the option (`options`:
    how the command calls name and code)."""
    others = [e for e in session.scalars(select(Entity)) if other_than is None or e.id != other_than.id]
    if code is not None:
        for other in others:
            if other.code and other.code.upper() == code.upper():
                raise DuplicateError("government body", options[1].lstrip("-"), code)
            if name_key(code) == name_key(other.name):
                raise InvalidInputError(record, options[1], f"{code!r} is the name of another body; give another code")
    if name is not None:
        key = name_key(name)
        for other in others:
            if name_key(other.name) == key:
                raise DuplicateError("government body", options[0].lstrip("-"), other.name)
            if other.code and key in (other.code.casefold(), name_key(other.code)):
                problem = f"{name!r} is the code of {other.name}; name this body otherwise"
                raise InvalidInputError(record, options[0], problem)


def list_entities(session: Session) -> list[Entity]:
    """Every registered body, in the order they were added."""
    return list(session.scalars(select(Entity).order_by(Entity.id)))


class EntityIndex:
    """Finds bodies by code (any case) or by name as people type it."""

    def __init__(self, session: Session) -> None:
        self._by_key: dict[str, Entity] = {}
        entities = list_entities(session)
        for entity in entities:
            self._by_key[name_key(entity.name)] = entity
        # Codes last: a code always names its own body, whatever another body is called ("Ros"
        # must not take ROS's letters).
        for entity in entities:
            if entity.code:
                self._by_key[entity.code.casefold()] = entity

    def find(self, key: str) -> Entity | None:
        return self._by_key.get(key.strip().casefold()) or self._by_key.get(name_key(key))

    def get(self, key: str) -> Entity:
        found = self.find(key)
        if found is None:
            raise NotFoundError("government body", repr(key))
        return found
