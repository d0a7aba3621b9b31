"""Schemas of the rule files. Every model forbids unknown keys so a typo is an error, not a
silently ignored setting."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetPydanticSchema,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic_core import PydanticCustomError, core_schema


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- patterns ----------------------------------------------------------------------------------


class Pattern(str):
    """A regular expression of a rule file with its examples: texts it must match and texts it
    must not. A `str`, so everything that compiles patterns reads it unchanged."""

    examples: tuple[str, ...]
    counterexamples: tuple[str, ...]

    def __new__(
        cls, regex: str, examples: tuple[str, ...] = (), counterexamples: tuple[str, ...] = ()
    ) -> Pattern:
        self = super().__new__(cls, regex)
        self.examples = examples
        self.counterexamples = counterexamples
        return self

    def with_regex(self, regex: str) -> Pattern:
        """The same examples for the regex rewritten (campaign facts filled in)."""
        return Pattern(regex, self.examples, self.counterexamples)


def examples_of(pattern: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(must match, must not match) of a pattern; a plain string has neither."""
    if isinstance(pattern, Pattern):
        return pattern.examples, pattern.counterexamples
    return (), ()


Example = Annotated[str, Field(min_length=1)]


class PatternSpec(Strict):
    """A pattern written with its examples: `{p: REGEX, e: [...], not: [...]}`."""

    p: str = Field(description="the regular expression")
    e: list[Example] = Field(min_length=1, description="texts it must match")
    not_: list[Example] = Field(default_factory=list, alias="not", description="texts it must not")


def _pattern(value: Any, handler: ValidatorFunctionWrapHandler) -> Pattern:
    if isinstance(value, str):
        return Pattern(value)
    if not isinstance(value, dict):
        raise PydanticCustomError(
            "pattern", "a pattern is a regular expression or {p: REGEX, e: [EXAMPLE, ...]}"
        )
    spec: PatternSpec = handler(value)
    return Pattern(spec.p, tuple(spec.e), tuple(spec.not_))


def _pattern_schema(_source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
    return core_schema.no_info_wrap_validator_function(
        _pattern,
        handler.generate_schema(PatternSpec),
        serialization=core_schema.to_string_ser_schema(),
    )


# A regular expression, written plain or with its examples; read as a `Pattern`.
PatternEntry = Annotated[str, GetPydanticSchema(_pattern_schema)]


# --- criteria.yaml -----------------------------------------------------------------------------


class CheckSpec(Strict):
    type: str = Field(description="a registered check type, e.g. identity_confirmed.v1")
    params: dict[str, Any] = Field(default_factory=dict)


Severity = Annotated[int, Field(ge=1, le=3)]
Scope = Literal["sale", "every_call"]


class ItemSpec(Strict):
    check: CheckSpec
    label: str | None = Field(None, description="the labels.jsonl key that grades this item")


class CriterionSpec(Strict):
    """A validity criterion: one check (`check`), or several items that must all pass."""

    short: str = Field(description="its name in the one-line terminal summary")
    label: str | None = Field(None, description="the labels.jsonl key that grades it")
    severity: Severity = Field(description="review severity of its findings (3 high, 1 low)")
    scope: Scope = Field(
        "sale",
        description="sale: its failures are findings on sales only (a declined or no-pitch call "
        "is not reviewed for them); every_call: on every call",
    )
    check: CheckSpec | None = None
    items: dict[str, ItemSpec] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> CriterionSpec:
        if (self.check is None) == (self.items is None):
            raise ValueError("give either `check` (a one-item criterion) or `items`")
        if self.items is not None and not self.items:
            raise ValueError("`items` needs at least one item")
        return self


class FindingCheckSpec(CheckSpec):
    """The hang-up and forbidden-phrase checks: judged on every call, never part of validity."""

    severity: Severity
    category_severity: dict[str, Severity] = Field(
        default_factory=dict, description="forbidden: severity by category, over `severity`"
    )


class OutcomeSpec(CheckSpec):
    """The outcome check, and which items put an outcome other than a sale in doubt."""

    in_doubt_when: list[str] = Field(
        default_factory=list,
        description="finding codes of items whose pass on a call judged not a sale flags it "
        "`outcome_in_doubt` (the customer said yes, yet no sale was booked)",
    )


class CriteriaFile(Strict):
    version: int
    criteria: dict[str, CriterionSpec] = Field(min_length=1)
    outcome: OutcomeSpec
    hangup: FindingCheckSpec
    forbidden: FindingCheckSpec

    @model_validator(mode="after")
    def _unique_items(self) -> CriteriaFile:
        seen: list[str] = [name for name, _ in self.item_specs()]
        dupes = sorted({n for n in seen if seen.count(n) > 1})
        if dupes:
            raise ValueError(f"item names must be unique across criteria: {dupes}")
        codes = set(self.item_codes().values())
        unknown = [code for code in self.outcome.in_doubt_when if code not in codes]
        if unknown:
            raise ValueError(f"outcome.in_doubt_when names no item: {unknown} (items: "
                             f"{sorted(codes)})")  # fmt: skip
        return self

    def item_specs(self) -> list[tuple[str, CheckSpec]]:
        """Every judged item in declaration order; a one-check criterion is its own item."""
        return [
            (name, spec)
            for criterion, c in self.criteria.items()
            for name, spec in (
                [(criterion, c.check)]
                if c.check is not None
                else [(item, i.check) for item, i in (c.items or {}).items()]
            )
        ]

    def item_codes(self) -> dict[str, str]:
        """Item name -> finding code (`criterion.item`, or `criterion` for a one-check one)."""
        return {
            name: criterion if c.check is not None else f"{criterion}.{name}"
            for criterion, c in self.criteria.items()
            for name in ([criterion] if c.check is not None else list(c.items or {}))
        }

    def labels(self) -> dict[str, tuple[str, str | None]]:
        """labels.jsonl key -> (criterion, item or None for the criterion itself)."""
        found: dict[str, tuple[str, str | None]] = {}
        for criterion, c in self.criteria.items():
            for item, spec in (c.items or {}).items():
                if spec.label:
                    found[spec.label] = (criterion, item)
            if c.label:
                found[c.label] = (criterion, None)
        return found

    def severities(self) -> dict[str, int]:
        """Finding code prefix -> review severity, as declared here."""
        found = {name: c.severity for name, c in self.criteria.items()}
        found["forbidden"] = self.forbidden.severity
        found |= {f"forbidden.{k}": v for k, v in self.forbidden.category_severity.items()}
        found["agent_hung_up_first"] = self.hangup.severity
        return found


# --- campaigns/*.yaml --------------------------------------------------------------------------


class Fee(Strict):
    amount: float = Field(ge=0)
    period: Literal["month", "minute"]
    note: str = ""


class CancelMethod(Strict):
    kind: Literal["sms", "hotline", "app"]
    code: str | None = Field(None, description="SMS keyword, e.g. TD12121 or STOP")
    number: str | None = Field(None, description="SMS destination or hotline number")
    name: str | None = Field(None, description="app name, e.g. My Northwind app")

    @model_validator(mode="after")
    def _fields_for_kind(self) -> CancelMethod:
        needed = {"sms": ("code", "number"), "hotline": ("number",), "app": ("name",)}[self.kind]
        missing = [field for field in needed if getattr(self, field) is None]
        if missing:
            raise ValueError(f"a {self.kind} cancel method needs {missing}")
        return self


class ScriptSection(Strict):
    section: str
    required: bool
    weight: float = Field(1.0, gt=0)
    checks: list[CheckSpec] = Field(min_length=1)


class CampaignFile(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    language: str
    company: str
    company_short: list[str] = Field(
        default_factory=list, description="short names the agent may use (电信, Northwind)"
    )
    product: str
    key_terms: list[str] = Field(
        default_factory=list,
        description="product words ASR mishears or splits (彩铃, stormwatch); packs use them",
    )
    price: Fee
    extra_fees: list[Fee] = Field(default_factory=list)
    trial_days: int | None = Field(None, gt=0)
    billing_start: str = Field("", description="when charging starts for products without trial")
    cancel_methods: list[CancelMethod] = Field(min_length=1)
    usage: list[str] = Field(min_length=1)
    features: list[str] = Field(min_length=1)
    pitch_terms: list[str] = Field(
        min_length=1, description="words that show the product is being pitched (regex)"
    )
    script: list[ScriptSection] = Field(min_length=1)


# --- languages/*.yaml --------------------------------------------------------------------------

LEXICON_NAMES: dict[str, str] = {
    # agent acts
    "identity_question": "agent asks whether the person is the account holder / can decide",
    "permission_question": "agent asks for time or permission before pitching",
    "time_request": "agent names the few minutes it wants (with a question: asks for time)",
    "permission_inverted": "a permission question a yes refuses (is this a bad time? 打扰您了吗)",
    "hearing_check": "agent checks the line (can you hear me? 能听到吗): a yes answers only that",
    "name_check": (
        "agent asks for the person by name, or as the line's user, only (请问是王女士吗, "
        "您是这个号码的使用人吗, is this Mr. Lee?)"
    ),
    "age_question": "agent asks the customer's age (how old are you? 你几岁了？)",
    "drink_question": "agent asks whether the customer has been drinking (是不是喝酒了？)",
    "holder_word": "the word a holder question turns on (account, 机主), read in a heard opening "
    "whose question words a recognizer lost",
    "consent_question": "agent asks the customer to agree to opening the service",
    "refusal_check": "agent asks whether the customer means no (that's a no? 不要了是吧？)",
    "sale_confirmed": "agent says the service has been or will be opened",
    "booking_withdrawn": "agent says, after booking it, that the service will not be opened",
    "dnc_note": "agent notes a refusal (do-not-call): a 'Done' after it books nothing",
    "company_intro": "agent names the company in the opening",
    "employee_number": "agent gives an employee number",
    "cancel_context": "words that put a number or code in the context of cancelling",
    "self_correction": "agent takes back what it just said (我说错了, sorry, I meant)",
    "other_purpose": "a hotline given for another purpose (to add it, 咨询, 想开的话打10000): no "
    "way to cancel",
    "without_offer": "a condition of not taking the offer (不办的话, if you don't): an amount "
    "after it is the cost without it, not its price",
    "unlimited_claim": "agent says use is unlimited (随便打, 不限时间, unlimited minutes)",
    "trial_context": "words that put a date or duration in the context of the free trial",
    "anchor_today": "words that anchor a trial duration to today / the opening day",
    "anchor_now": "anchors a trial duration to today in words (今天, starting today)",
    "charge_start": "says when charging starts after the trial (第31天开始收费, then it's $1.99)",
    "child_cue": "agent speaks to the person as to a child",
    # customer acts
    "holder_yes": "customer says they are the account holder",
    "holder_no": "customer says the line is not theirs",
    "age_answer": "customer gives a young age, bare (六岁半, six and a half): a child's answer to "
    "the agent's age question",
    "medicated": "the caller's own mind-clouding medication (pain pills, 麻药还没过)",
    "registered_other": "the line is registered in another person's name or ID (户名是我老婆的)",
    "family_relation": "an adult family member of the holder (wife, son, ...)",
    "other_relation": "a person who is not family (friend, neighbour, roommate, ...)",
    "relation_self": "the person names themselves by a relation, or the line as a relative's",
    "can_decide": "customer says they can decide for the line",
    "decide_question": "agent asks a family member whether they can decide for the line "
    "(identity_confirmed.v13)",
    "modal_yes": "a yes echoing the question's verb (I am., 能噻): to the decide question, "
    "they can decide (identity_confirmed.v13)",
    "cannot_decide": "customer says they cannot decide for the line",
    "affirm": "plain yes",
    "go_ahead": "an invitation to go on (go ahead, 你说): agrees whatever the question's polarity",
    "deny": "plain no / refusal",
    "busy": "customer has no time now",
    "backchannel": "listening noises that are neither yes nor no (嗯, uh-huh)",
    "hedge": "defers the decision (随便, 你看着办, I guess): never consent",
    "sarcasm": "a mocking yes (yeah, right; 你咋不直接扣我卡呢): never consent, asked or not",
    "consent_strong": "explicit request to open the service",
    "withdrawal": "customer takes back an earlier yes",
    "what_opened": "customer asks, after the yes, what was opened or agreed to",
    "time_granted": "customer gives time with its limit (就一分钟啊, like a real quick minute); "
    "read in the reply to the permission question only, not a model feature",
    "understood": "customer shows a misunderstanding was resolved",
    "hears_now": "customer hears the agent now (resolves cannot-hear, not a misunderstanding)",
    "third_person": "a subject other than the caller (他, my dad): signals about them do not count",
    "handover": "customer hands the phone to someone else (找你的, it's for you): a new speaker",
    "relayed": "customer relays the words of someone called to the phone (她说她没空, she says "
    "she's busy): the handover was not taken",
    "adult": "customer states an adult age (我二十六了, I'm fifty-two): outweighs a model's child",
    "read_back": "agent reads the order back for a yes (跟您确认一下, just to confirm)",
    "drunk": "competence: intoxicated",
    "drink_past": "drinking that is not now: last night's or a habit (beside a drunk signal)",
    "just_woken": "competence: asleep / just woken and confused",
    "cannot_hear": "competence: cannot hear the agent",
    "memory_loss": "competence: the caller's memory fails them (记不清了, I keep forgetting)",
    "noisy_place": "where the customer is drowns the line (工地上乱哄哄, it's so loud here)",
    "grasped": "an 'oh, ...' statement picking up an explanation (resolves not-understand)",
    "not_understand": "competence: does not understand",
    "child": "competence: a child",
    "language_barrier": "competence: does not speak the language well",
    "clarify": "competence: asks the agent to repeat or who is calling (counted, not one-off)",
    "who_again": "customer asks again who is calling (read after the price: lost track)",
    "wary": "customer suspects a scam or checks who is calling",
    "mistaken_caller": "customer takes the caller for someone they know or another service",
    "give_in": "a take-back that gives in (算了, forget it): a request after it in the turn stands "
    "(explicit_consent.v8)",
    "condition": "a condition (如果, 要是, if): a request said under it is no request",
    "mistaken_guess": "customer guesses the call is about something else (is this about the "
    "transfer?): confusion only when named again later (caller_competent.v19)",
    "coming": "relayed words saying the called person is coming (她说等一下): the handover stands",
    "mistaken_frame": "the frame words of a mistaking (is that you, 你是…的吧), left out of what "
    "is looked for again",
    # either side
    "goodbye": "a goodbye",
    "question": "marks a sentence as a question",
}


class LexiconSpec(Strict):
    patterns: list[PatternEntry] = Field(min_length=1, description="regular expressions")
    negatable: bool = Field(False, description="a negation cue just before a match cancels it")
    note: str = ""


class NegationSpec(Strict):
    cues: list[str] = Field(min_length=1)
    window: int = Field(gt=0, description="characters (zh) or words (en) before a match")
    exceptions: list[str] = Field(
        default_factory=list, description="fixed expressions that negate nothing (没事, no problem)"
    )


class AsrTermsSpec(Strict):
    match: Literal["pinyin", "edit_distance", "phrase"] = Field(
        description="pinyin: same syllables; edit_distance: a name spelled close, written "
        "without spaces; phrase: words spelled close, written as the phrase"
    )
    terms: list[str] = Field(min_length=1)
    min_similarity: float | None = Field(
        None, gt=0, le=1, description="edit_distance, phrase: similarity (0..1) that still counts"
    )
    keep: list[str] = Field(
        default_factory=list,
        description="pinyin: real words never rewritten; edit_distance, phrase: regexes of real "
        'uses whose words stay (the verb in "we\'ll ring back later")',
    )
    heard_only: bool = Field(
        False, description="restored only in transcripts a speech recognizer made (Call.heard_by)"
    )
    reason: str

    @model_validator(mode="after")
    def _threshold(self) -> AsrTermsSpec:
        if self.match != "pinyin" and self.min_similarity is None:
            raise ValueError(f"{self.match} terms need min_similarity")
        return self


class LanguageFile(Strict):
    language: str
    word_boundaries: bool
    negation: NegationSpec
    question_reach: int = Field(
        gt=0, description="characters from a statement to a question marker that still asks it"
    )
    period_reach: int = Field(
        gt=0, description="characters from an amount to the period marker that prices it"
    )
    anchor_reach: int = Field(
        gt=0, description="characters from a trial length to the word anchoring it to today"
    )
    soft_break: str = Field(
        description="where a long unpunctuated clause may be cut to quote a span (regex)"
    )
    soft_break_after: int = Field(
        gt=0, description="characters a clause must have before it is cut at soft breaks"
    )
    fillers: list[str] = Field(default_factory=list, description="hesitations removed (regex)")
    openers: list[str] = Field(
        default_factory=list,
        description="words that only open a sentence (look, well): a forbidden phrase after "
        "them still opens it, for forbidden_phrases.v3's joining (regex, at the sentence start)",
    )
    elongated: bool = Field(
        False, description="a letter written three or more times is read once (yeahhh, sooo)"
    )
    dropped_g: bool = Field(
        False, description="a word written with its g dropped is read whole (askin' -> asking)"
    )
    rewrites: dict[str, str] = Field(
        default_factory=dict, description="spelling variants made canonical (regex -> text)"
    )
    heard_rewrites: dict[str, str] = Field(
        default_factory=dict,
        description="words a speech recognizer writes for what was said, restored before the "
        "rewrites only in transcripts a recognizer made (Call.heard_by) (regex -> text)",
    )
    asr_terms: list[AsrTermsSpec] = Field(default_factory=list)
    lexicons: dict[str, LexiconSpec]

    @model_validator(mode="after")
    def _known_lexicons(self) -> LanguageFile:
        # A pack may leave out lexicons no configured check reads: the loader says which
        # check needs a missing one.
        unknown = sorted(set(self.lexicons) - set(LEXICON_NAMES))
        if unknown:
            raise ValueError(f"unknown lexicons {unknown}; valid: {sorted(LEXICON_NAMES)}")
        return self


# --- forbidden/*.yaml --------------------------------------------------------------------------

CATEGORIES = ("dismissive", "arguing", "misleading", "threat", "insult")


class ForbiddenRule(Strict):
    id: str
    category: Literal["dismissive", "arguing", "misleading", "threat", "insult"]
    patterns: list[PatternEntry] = Field(min_length=1)
    unless: list[PatternEntry] = Field(
        default_factory=list, description="a clause matching any of these is exempt (regex)"
    )
    unless_trial: list[PatternEntry] = Field(
        default_factory=list,
        description=(
            "a clause matching any of these is exempt only when the campaign has a free trial "
            "and every length the clause states is within it (regex)"
        ),
    )
    negation_window: int | None = Field(
        default=None,
        ge=1,
        description=(
            "a negation cue of the language pack this many characters (zh) or words (en) "
            "before a match cancels it"
        ),
    )
    when: Literal["always", "paid_product"] = "always"
    note: str = ""


class ForbiddenFile(Strict):
    language: str
    rules: list[ForbiddenRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> ForbiddenFile:
        seen: set[str] = set()
        dupes = {r.id for r in self.rules if r.id in seen or seen.add(r.id)}  # type: ignore[func-returns-value]
        if dupes:
            raise ValueError(f"duplicate rule ids {sorted(dupes)}")
        return self


# --- cleanup.yaml, roles.yaml, signals.yaml -------------------------------------------------------


class HallucinationSpec(Strict):
    reason: str
    patterns: list[PatternEntry] = Field(min_length=1)


class LoopSpec(Strict):
    reason: str
    min_unit_chars: int = Field(ge=1)
    min_repeats: int = Field(ge=2)
    single_char_repeats: int = Field(ge=2)


class CleanupFile(Strict):
    """What ASR adds that nobody said: hallucinations and repetition loops."""

    hallucinations: HallucinationSpec
    loops: LoopSpec


class ChannelsSpec(Strict):
    agent_channel: Literal["left", "right"]
    contradiction_confidence: float = Field(
        ge=0, le=1, description="content confidence that flags a contradicted channel map"
    )


class RolesFile(Strict):
    """Which speaker is the agent: acts weighed per speaker, and the stereo channel map."""

    agent_acts: dict[str, float] = Field(min_length=1)
    customer_acts: dict[str, float] = Field(default_factory=dict)
    first_speaker_bonus: float = 0.0
    confidence_scale: float = Field(3.0, gt=0)
    min_confidence: float = Field(ge=0, le=1)
    channels: ChannelsSpec

    @model_validator(mode="after")
    def _known_acts(self) -> RolesFile:
        unknown = sorted((set(self.agent_acts) | set(self.customer_acts)) - set(LEXICON_NAMES))
        if unknown:
            raise ValueError(f"unknown acts {unknown}; valid: {sorted(LEXICON_NAMES)}")
        return self


class SignalsFile(Strict):
    min_silence_s: float = Field(gt=0)
    min_overlap_s: float = Field(gt=0)
    interruption_s: float = Field(gt=0)
    fast_rate: dict[str, float] = Field(min_length=1)
    end_window_s: float = Field(gt=0)


# --- understanding.yaml --------------------------------------------------------------------------


Probability = Annotated[float, Field(ge=0, le=1.01)]  # 1.01: never


class FamilySpec(Strict):
    """Dialogue acts one model task reads: which lexicons its labels stand for."""

    task: str = Field(description="the heads' task (identity, reply, act.price, ...)")
    side: Literal["agent", "customer"]
    lexicons: list[str] = Field(min_length=1, description="the rule lexicons of this family")
    labels: dict[str, list[str]] = Field(description="model label -> lexicons it counts as")
    fill: Probability | None = Field(None, description="over the file's `fill`")
    override: Probability | None = Field(None, description="over the file's `override`")
    silence: bool = Field(
        False,
        description="a confident reading of none of the family's acts silences the rules' hits "
        "(a rhetorical question); else only a reading of another act replaces them",
    )
    by_sentence: list[str] = Field(
        default_factory=list,
        description="a turn of several sentences read as one of these labels (or below fill) is "
        "read sentence by sentence, and its surest other reading counts (it answers, then asks)",
    )

    together: list[list[str]] = Field(
        default_factory=list,
        description="labels that mean the same to the checks: a reading counts with their "
        "probabilities summed (yes 0.45 and go_ahead 0.40 agree at 0.85), as the likelier",
    )
    beside: list[str] = Field(
        default_factory=list,
        description="labels whose reading at `fill` adds their lexicons even where the rules "
        "found other acts (a condition or sarcasm the wording of a yes hides)",
    )
    vetoed: dict[str, list[str]] = Field(
        default_factory=dict,
        description="label -> lexicons: a reading of the label changes nothing in a turn where "
        'the rules hit any of these (a plain no: "Me? No, no, her son handles her things.")',
    )
    agrees: dict[str, list[str]] = Field(
        default_factory=dict,
        description="label -> lexicons a reading of the label agrees with: it never silences "
        'their rule hits ("No, Mr. Beaumont is sleeping, I am his carer": not the holder, '
        "and who the speaker is)",
    )
    contested: list[str] = Field(
        default_factory=list,
        description="lexicons whose hits, silenced by a reading at `fill` among disagreeing "
        "rule hits, let that reading add its own acts too (\"the wife'd tell ya it's her phone "
        "... but it's my name on the contract\": the line's and a relative's; the model reads "
        "which)",
    )

    @model_validator(mode="after")
    def _known(self) -> FamilySpec:
        grouped = [label for group in self.together for label in group]
        if sorted(set(grouped) - set(self.labels)) or len(grouped) != len(set(grouped)):
            raise ValueError(
                f"together: groups of distinct labels among {sorted(self.labels)}, "
                f"each label in one group at most; got {self.together}"
            )
        named = set(self.lexicons) | {n for names in self.labels.values() for n in names}
        named |= {n for names in self.vetoed.values() for n in names} | set(self.contested)
        named |= {n for names in self.agrees.values() for n in names}
        unknown = sorted(named - set(LEXICON_NAMES))
        if unknown:
            raise ValueError(f"unknown lexicons {unknown}; valid: {sorted(LEXICON_NAMES)}")
        strange = sorted(
            (set(self.by_sentence) | set(self.beside) | set(self.vetoed) | set(self.agrees))
            - set(self.labels)
        )
        if strange:
            raise ValueError(
                f"by_sentence, beside or vetoed labels {strange} not among {sorted(self.labels)}"
            )
        return self


class DissatisfiedSpec(Strict):
    task: str
    labels: dict[str, Probability] = Field(
        description="complaint label -> probability from which the customer is dissatisfied"
    )


class UnderstandingFile(Strict):
    """When the model's reading of a sentence counts beside the rules'."""

    version: int
    fill: Probability = Field(description="no rule hit in a family: the model counts from here")
    override: Probability = Field(description="the rules read otherwise: the model wins from here")
    unsure: Probability = Field(description="an item decided on a reading below this is flagged")
    forbidden: Probability = Field(
        description="an agent sentence no forbidden rule matched is forbidden from here"
    )
    forbidden_veto: Probability | None = Field(
        None,
        description="a forbidden rule's match in a turn the model reads as none with at least "
        "this is dropped (an apology, a true price the pattern took for rudeness)",
    )
    call_review: Probability | None = Field(
        None,
        description="a call head that reads the opposite of its item's verdict this surely flags "
        "the item model_disagrees for review (the verdict stands)",
    )
    families: dict[str, FamilySpec]
    dissatisfied: DissatisfiedSpec
    sentiment_task: str = "sentiment"


# --- tasks.yaml --------------------------------------------------------------------------------


class RevisitPolicy(Strict):
    due_hours: int = Field(gt=0)
    urgent_codes: list[str] = Field(default_factory=list)


class ConfirmationPolicy(Strict):
    first_after_days: int = Field(gt=0)
    second_before_end_days: int = Field(ge=0)
    extend_when_unreachable: bool = True


class TasksFile(Strict):
    revisit: RevisitPolicy
    confirmation: ConfirmationPolicy
