"""Risk-of-bias tools as forms: domains, signalling questions, and each tool's published rules.

- ``rob2``: RoB 2 for individually randomised parallel-group trials (Sterne et al., BMJ
  2019;366:l4898; full guidance of 22 August 2019), effect of assignment to intervention.
  Every domain's judgement comes from its signalling questions by the guidance's algorithm;
  overall: low if every domain is low, high if any is high, else some concerns. (The guidance
  also lets reviewers judge "high" for several domains with some concerns: an override.)
- ``robins-i``: ROBINS-I (Sterne et al., BMJ 2016;355:i4919). The 2016 tool publishes no
  algorithm from signalling questions to domain judgements: the reviewer judges each domain;
  the overall rule is the tool's (critical if any domain is critical, else serious if any is
  serious, else no information if any domain lacks it, else moderate if any is moderate, else
  low).
- ``nos-cohort`` / ``nos-case-control``: the Newcastle–Ottawa Scale (Wells et al.): a star
  per item (comparability up to two); domain and overall thresholds of the AHRQ conversion
  (good: selection 3–4, comparability 1–2, outcome/exposure 2–3; fair: selection 2; poor:
  selection 0–1, comparability 0 or outcome/exposure 0–1), shown as low / some concerns / high.
- ``jbi-case-series``: the JBI critical appraisal checklist for case series (Munn et al.
  2020), ten questions answered yes / no / unclear / not applicable. JBI gives no overall
  rule: the reviewers judge the overall risk of bias themselves.

Answers are keyed by question (``"1.1"``); a domain's key (``"D1"``) holds the reviewer's
judgement where the tool has no algorithm, or an override (with a reason) where it has one;
``"overall"`` likewise. :func:`evaluate` turns answers into judgements.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from reviewflow.errors import InputError

Answers = Mapping[str, str]
Judge = Callable[[Answers], str | None]

LOW, SOME, HIGH = "low", "some concerns", "high"
MODERATE, SERIOUS, CRITICAL, NO_INFO = "moderate", "serious", "critical", "no information"
OVERALL = "overall"
# how bad a judgement is, for colours, sorting and "exclude high risk" (0 best)
LEVEL = {LOW: 0, SOME: 1, MODERATE: 1, NO_INFO: 1, HIGH: 2, SERIOUS: 2, CRITICAL: 3}

SIGNAL = ("Y", "PY", "PN", "N", "NI")
SIGNAL_NA = ("NA", *SIGNAL)
YES, NO = frozenset({"Y", "PY"}), frozenset({"N", "PN"})


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Domain:
    key: str
    label: str
    questions: tuple[Question, ...] = ()
    judge: Judge | None = None  # None: the reviewer judges the domain
    scale: tuple[str, ...] = (LOW, SOME, HIGH)


@dataclass(frozen=True)
class Tool:
    key: str
    name: str
    domains: tuple[Domain, ...]
    scale: tuple[str, ...]
    overall_rule: Callable[[list[str]], str] | None
    citation: str
    items: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for d in self.domains:
            for q in d.questions:
                self.items[q.key] = q.answers
            self.items[d.key] = d.scale
        self.items[OVERALL] = self.scale

    def needs_reason(self, item: str) -> bool:
        """An override of a published rule must say why."""
        if item == OVERALL:
            return self.overall_rule is not None
        return any(d.key == item and d.judge is not None for d in self.domains)


def worst(judgements: list[str]) -> str:
    return max(judgements, key=lambda j: LEVEL[j])


# --- RoB 2 ------------------------------------------------------------------------------


def _d1(a: Answers) -> str | None:
    """Randomisation: 1.2 concealed? then 1.1 random? and 1.3 baseline imbalance?"""
    q1, q2, q3 = a.get("1.1"), a.get("1.2"), a.get("1.3")
    if q2 in NO:
        return HIGH
    if q2 == "NI":
        return None if q3 is None else (HIGH if q3 in YES else SOME)
    if q2 in YES:
        if q1 in NO:
            return SOME
        if q1 in YES or q1 == "NI":
            return None if q3 is None else (SOME if q3 in YES else LOW)
    return None


def _d2(a: Answers) -> str | None:
    """Deviations from intended interventions (effect of assignment): two parts, the worse."""
    q = [a.get(f"2.{i}") for i in range(1, 8)]
    if q[0] is None or q[1] is None:
        return None
    if q[0] in NO and q[1] in NO:
        part1: str | None = LOW
    elif q[2] in NO:
        part1 = LOW
    elif q[2] == "NI":
        part1 = SOME
    elif q[2] in YES:
        if q[3] in NO:
            part1 = SOME
        elif q[3] in YES or q[3] == "NI":
            part1 = None if q[4] in (None, "NA") else (SOME if q[4] in YES else HIGH)
        else:
            part1 = None
    else:
        part1 = None
    if q[5] in YES:
        part2: str | None = LOW
    elif q[5] in NO or q[5] == "NI":
        part2 = None if q[6] in (None, "NA") else (SOME if q[6] in NO else HIGH)
    else:
        part2 = None
    if part1 is None or part2 is None:
        return None
    return worst([part1, part2])


def _d3(a: Answers) -> str | None:
    """Missing outcome data: 3.1 nearly all? 3.2 evidence of no bias? 3.3 could? 3.4 likely?"""
    q1, q2, q3, q4 = (a.get(f"3.{i}") for i in range(1, 5))
    if q1 in YES:
        return LOW
    if q1 not in NO and q1 != "NI":
        return None
    if q2 in YES:
        return LOW
    if q2 not in NO:
        return None
    if q3 in NO:
        return LOW
    if q3 not in YES and q3 != "NI":
        return None
    if q4 in NO:
        return SOME
    return HIGH if q4 in YES or q4 == "NI" else None


def _d4(a: Answers) -> str | None:
    """Measurement of the outcome: 4.1 inappropriate? 4.2 differed? then 4.3 to 4.5."""
    q1, q2, q3, q4, q5 = (a.get(f"4.{i}") for i in range(1, 6))
    if q1 in YES:
        return HIGH
    if q1 not in NO and q1 != "NI":
        return None
    if q2 in YES:
        return HIGH
    if q2 not in NO and q2 != "NI":
        return None
    unsure = q2 == "NI"  # 4.2 no information: at best some concerns
    if q3 in NO:
        return SOME if unsure else LOW
    if q3 not in YES and q3 != "NI":
        return None
    if q4 in NO:
        return SOME if unsure else LOW
    if q4 not in YES and q4 != "NI":
        return None
    if q5 in NO:
        return SOME
    return HIGH if q5 in YES or q5 == "NI" else None


def _d5(a: Answers) -> str | None:
    """Selection of the reported result: 5.1 pre-specified plan? 5.2/5.3 selected?"""
    q1, q2, q3 = a.get("5.1"), a.get("5.2"), a.get("5.3")
    if q2 in YES or q3 in YES:
        return HIGH
    if q2 is None or q3 is None or q1 is None:
        return None
    if q2 in NO and q3 in NO:
        return LOW if q1 in YES else SOME
    return SOME  # no information on 5.2 or 5.3


ROB2 = Tool(
    "rob2",
    "RoB 2 (randomised trials)",
    (
        Domain("D1", "Randomisation process", (
            Question("1.1", "Was the allocation sequence random?", SIGNAL),
            Question("1.2", "Was the allocation sequence concealed until participants were "
                     "enrolled and assigned to interventions?", SIGNAL),
            Question("1.3", "Did baseline differences between intervention groups suggest a "
                     "problem with the randomisation process?", SIGNAL),
        ), _d1),
        Domain("D2", "Deviations from intended interventions", (
            Question("2.1", "Were participants aware of their assigned intervention during "
                     "the trial?", SIGNAL),
            Question("2.2", "Were carers and people delivering the interventions aware of "
                     "participants' assigned intervention during the trial?", SIGNAL),
            Question("2.3", "If Y/PY/NI to 2.1 or 2.2: were there deviations from the intended "
                     "intervention that arose because of the trial context?", SIGNAL_NA),
            Question("2.4", "If Y/PY to 2.3: were these deviations likely to have affected "
                     "the outcome?", SIGNAL_NA),
            Question("2.5", "If Y/PY/NI to 2.4: were these deviations from intended "
                     "intervention balanced between groups?", SIGNAL_NA),
            Question("2.6", "Was an appropriate analysis used to estimate the effect of "
                     "assignment to intervention?", SIGNAL),
            Question("2.7", "If N/PN/NI to 2.6: was there potential for a substantial impact "
                     "(on the result) of the failure to analyse participants in the group to "
                     "which they were randomised?", SIGNAL_NA),
        ), _d2),
        Domain("D3", "Missing outcome data", (
            Question("3.1", "Were data for this outcome available for all, or nearly all, "
                     "participants randomised?", SIGNAL),
            Question("3.2", "If N/PN/NI to 3.1: is there evidence that the result was not "
                     "biased by missing outcome data?", ("NA", "Y", "PY", "PN", "N")),
            Question("3.3", "If N/PN to 3.2: could missingness in the outcome depend on its "
                     "true value?", SIGNAL_NA),
            Question("3.4", "If Y/PY/NI to 3.3: is it likely that missingness in the outcome "
                     "depended on its true value?", SIGNAL_NA),
        ), _d3),
        Domain("D4", "Measurement of the outcome", (
            Question("4.1", "Was the method of measuring the outcome inappropriate?", SIGNAL),
            Question("4.2", "Could measurement or ascertainment of the outcome have differed "
                     "between intervention groups?", SIGNAL),
            Question("4.3", "If N/PN/NI to 4.1 and 4.2: were outcome assessors aware of the "
                     "intervention received by study participants?", SIGNAL_NA),
            Question("4.4", "If Y/PY/NI to 4.3: could assessment of the outcome have been "
                     "influenced by knowledge of intervention received?", SIGNAL_NA),
            Question("4.5", "If Y/PY/NI to 4.4: is it likely that assessment of the outcome "
                     "was influenced by knowledge of intervention received?", SIGNAL_NA),
        ), _d4),
        Domain("D5", "Selection of the reported result", (
            Question("5.1", "Were the data that produced this result analysed in accordance "
                     "with a pre-specified analysis plan that was finalised before unblinded "
                     "outcome data were available for analysis?", SIGNAL),
            Question("5.2", "Is the numerical result being assessed likely to have been "
                     "selected, on the basis of the results, from multiple eligible outcome "
                     "measurements within the outcome domain?", SIGNAL),
            Question("5.3", "... from multiple eligible analyses of the data?", SIGNAL),
        ), _d5),
    ),
    (LOW, SOME, HIGH),
    worst,
    "Sterne JAC et al. RoB 2: a revised tool for assessing risk of bias in randomised trials. "
    "BMJ 2019;366:l4898",
)  # fmt: skip


# --- ROBINS-I ---------------------------------------------------------------------------

ROBINS_SCALE = (LOW, MODERATE, SERIOUS, CRITICAL, NO_INFO)


def _robins_overall(judgements: list[str]) -> str:
    for j in (CRITICAL, SERIOUS, NO_INFO, MODERATE):
        if j in judgements:
            return j
    return LOW


ROBINS_I = Tool(
    "robins-i",
    "ROBINS-I (non-randomised studies of interventions)",
    tuple(
        Domain(f"D{i}", label, scale=ROBINS_SCALE)
        for i, label in enumerate(
            (
                "Confounding",
                "Selection of participants into the study",
                "Classification of interventions",
                "Deviations from intended interventions",
                "Missing data",
                "Measurement of outcomes",
                "Selection of the reported result",
            ),
            1,
        )
    ),
    ROBINS_SCALE,
    _robins_overall,
    "Sterne JAC et al. ROBINS-I: a tool for assessing risk of bias in non-randomised studies "
    "of interventions. BMJ 2016;355:i4919",
)


# --- Newcastle–Ottawa -------------------------------------------------------------------

STAR = ("*", "-")
TWO_STARS = ("**", "*", "-")


def _stars(keys: tuple[str, ...], good: int, fair: int | None) -> Judge:
    """A domain judged by its stars: ``good`` or more low risk, ``fair`` some concerns."""

    def judge(a: Answers) -> str | None:
        if any(a.get(k) is None for k in keys):
            return None
        n = sum(len(a[k].strip("-")) for k in keys)
        if n >= good:
            return LOW
        return SOME if fair is not None and n >= fair else HIGH

    return judge


def _nos(
    key: str, name: str, groups: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]
) -> Tool:
    domains = []
    thresholds = {"S": (3, 2), "C": (1, None), "O": (2, None), "E": (2, None)}
    for dkey, label, items in groups:
        qs = tuple(Question(k, text, TWO_STARS if k == "C1" else STAR) for k, text in items)
        good, fair = thresholds[dkey]
        domains.append(Domain(dkey, label, qs, _stars(tuple(k for k, _ in items), good, fair)))
    return Tool(key, name, tuple(domains), (LOW, SOME, HIGH), worst,
                "Wells GA et al. The Newcastle-Ottawa Scale (NOS) for assessing the quality of "
                "nonrandomised studies in meta-analyses; thresholds: AHRQ")  # fmt: skip


COMPARABILITY = ("C", "Comparability", (("C1", "Comparability on the design or analysis "
                                         "(** for the most important and an additional factor)"),))  # fmt: skip
NOS_COHORT = _nos("nos-cohort", "Newcastle–Ottawa Scale, cohort studies", (
    ("S", "Selection", (
        ("S1", "Representativeness of the exposed cohort"),
        ("S2", "Selection of the non-exposed cohort"),
        ("S3", "Ascertainment of exposure"),
        ("S4", "Demonstration that the outcome was not present at the start of the study"),
    )),
    COMPARABILITY,
    ("O", "Outcome", (
        ("O1", "Assessment of outcome"),
        ("O2", "Was follow-up long enough for outcomes to occur?"),
        ("O3", "Adequacy of follow-up of cohorts"),
    )),
))  # fmt: skip
NOS_CASE_CONTROL = _nos("nos-case-control", "Newcastle–Ottawa Scale, case-control studies", (
    ("S", "Selection", (
        ("S1", "Is the case definition adequate?"),
        ("S2", "Representativeness of the cases"),
        ("S3", "Selection of controls"),
        ("S4", "Definition of controls"),
    )),
    COMPARABILITY,
    ("E", "Exposure", (
        ("E1", "Ascertainment of exposure"),
        ("E2", "Same method of ascertainment for cases and controls"),
        ("E3", "Non-response rate"),
    )),
))  # fmt: skip


# --- JBI case series --------------------------------------------------------------------

JBI_ANSWERS = ("yes", "no", "unclear", "not applicable")
_JBI_LEVEL = {"yes": LOW, "no": HIGH, "unclear": SOME}


def _jbi(key: str) -> Judge:
    def judge(a: Answers) -> str | None:
        v = a.get(key)
        return None if v is None else _JBI_LEVEL.get(v, LOW)

    return judge


JBI_QUESTIONS = (
    "Were there clear criteria for inclusion in the case series?",
    "Was the condition measured in a standard, reliable way for all participants included?",
    "Were valid methods used for identification of the condition for all participants?",
    "Did the case series have consecutive inclusion of participants?",
    "Did the case series have complete inclusion of participants?",
    "Was there clear reporting of the demographics of the participants in the study?",
    "Was there clear reporting of clinical information of the participants?",
    "Were the outcomes or follow-up results of cases clearly reported?",
    "Was there clear reporting of the presenting site(s)/clinic(s) demographic information?",
    "Was statistical analysis appropriate?",
)
JBI_CASE_SERIES = Tool(
    "jbi-case-series",
    "JBI checklist for case series",
    tuple(
        Domain(f"Q{i}", text, (Question(f"{i}", text, JBI_ANSWERS),), _jbi(f"{i}"))
        for i, text in enumerate(JBI_QUESTIONS, 1)
    ),
    (LOW, SOME, HIGH),
    None,
    "Munn Z et al. Methodological quality of case series studies: an introduction to the JBI "
    "critical appraisal tool. JBI Evid Synth 2020;18(10):2127-2133",
)

TOOLS = {t.key: t for t in (ROB2, ROBINS_I, NOS_COHORT, NOS_CASE_CONTROL, JBI_CASE_SERIES)}


def get_tool(key: str) -> Tool:
    try:
        return TOOLS[key]
    except KeyError:
        raise InputError(f"unknown risk-of-bias tool {key!r}; choose {', '.join(TOOLS)}") from None


# --- evaluation -------------------------------------------------------------------------


@dataclass(frozen=True)
class Judgement:
    value: str | None  # None: not enough answers yet
    source: str  # "algorithm" | "override" | "reviewer"
    reason: str = ""


@dataclass(frozen=True)
class Evaluation:
    domains: dict[str, Judgement]
    overall: Judgement

    @property
    def complete(self) -> bool:
        return self.overall.value is not None and all(
            j.value is not None for j in self.domains.values()
        )


def evaluate(tool: Tool, answers: Answers, reasons: Mapping[str, str] | None = None) -> Evaluation:
    """Domain and overall judgements: the reviewer's own where the tool has no rule or where
    they overrode it (with a reason), else the tool's rule applied to the answers."""
    reasons = reasons or {}
    domains: dict[str, Judgement] = {}
    for d in tool.domains:
        if d.key in answers:
            source = "override" if d.judge is not None else "reviewer"
            domains[d.key] = Judgement(answers[d.key], source, reasons.get(d.key, ""))
        elif d.judge is None:
            domains[d.key] = Judgement(None, "reviewer")
        else:
            domains[d.key] = Judgement(d.judge(answers), "algorithm")
    if OVERALL in answers:
        source = "override" if tool.overall_rule is not None else "reviewer"
        overall = Judgement(answers[OVERALL], source, reasons.get(OVERALL, ""))
    else:
        values = [j.value for j in domains.values()]
        rule = tool.overall_rule
        ok = rule is not None and all(v is not None for v in values)
        overall = Judgement(rule([v for v in values if v]) if ok and rule else None, "algorithm")
    return Evaluation(domains, overall)


def check_answer(tool: Tool, item: str, value: str, reason: str, where: str) -> None:
    """Refuse an unknown item, an answer the item does not allow, an override without reason."""
    allowed = tool.items.get(item)
    if allowed is None:
        raise InputError(f"{where}: {tool.key} has no item {item!r}")
    if value not in allowed:
        raise InputError(
            f"{where}: {value!r} is not an answer to {tool.key} {item} ({' / '.join(allowed)})"
        )
    if tool.needs_reason(item) and not reason.strip():
        raise InputError(f"{where}: overriding the {tool.key} rule for {item} needs a reason")
