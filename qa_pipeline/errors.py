"""Every error the library raises, each with a stable code (spaCy-style).

Codes let users search docs and logs; messages name the file and what is wrong, and list the
valid choices where there is a closed set.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence


class QAPipelineError(Exception):
    """Base class: `code` is stable, `message` is for people."""

    code = "E000"

    def __init__(self, message: str) -> None:
        super().__init__(f"[{self.code}] {message}")
        self.message = message


class CallFileError(QAPipelineError):
    """A call file cannot be read or does not match the call schema."""

    code = "E001"

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        super().__init__(f"{path}: " + "; ".join(problems))


class UnknownCampaignError(QAPipelineError):
    code = "E002"

    def __init__(self, campaign: str, valid: Iterable[str]) -> None:
        super().__init__(
            f"unknown campaign {campaign!r}; valid campaigns: {', '.join(sorted(valid))}"
        )


class UnsupportedLanguageError(QAPipelineError):
    code = "E003"

    def __init__(self, language: str, valid: Iterable[str]) -> None:
        super().__init__(
            f"no language pack for {language!r}; available: {', '.join(sorted(valid))}"
        )


class RoleAssignmentError(QAPipelineError):
    """Speaker labels that cannot be mapped to agent and customer."""

    code = "E005"

    def __init__(self, source: str, labels: list[str]) -> None:
        super().__init__(
            f"{source}: cannot tell agent from customer: speaker labels {labels} "
            "(need agent/customer, or at least two anonymous speakers)"
        )


class CallTimeoutError(QAPipelineError):
    """A call still being judged when its time budget ran out (it was stopped)."""

    code = "E006"

    def __init__(self, source: str, budget_s: float, stage: str) -> None:
        super().__init__(
            f"{source}: judging took longer than the time budget of {budget_s:g} s and was "
            f"stopped in step {stage!r} (raise --call-budget if such calls are expected)"
        )


class JudgingProcessError(QAPipelineError):
    """The worker process judging a call died (killed from outside, or out of memory)."""

    code = "E007"

    def __init__(self, source: str, exit_code: int | None, stage: str) -> None:
        super().__init__(
            f"{source}: the process judging this call died (exit code {exit_code}) in step "
            f"{stage!r}"
        )


class RuleFileError(QAPipelineError):
    """One rule file is broken; `problems` holds every problem found in it, with key paths."""

    code = "E010"

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        joined = "\n  ".join(problems)
        super().__init__(f"{path}:\n  {joined}")


class RulesetError(QAPipelineError):
    """The rule set as a whole cannot be used (a shared file is broken or missing)."""

    code = "E011"

    def __init__(self, errors: Sequence[RuleFileError]) -> None:
        self.errors = tuple(errors)
        super().__init__("broken rule files:\n" + "\n".join(e.message for e in errors))


class UnknownCheckTypeError(QAPipelineError):
    code = "E020"

    def __init__(self, name: str, valid: Iterable[str]) -> None:
        super().__init__(f"unknown check type {name!r}; registered: {', '.join(sorted(valid))}")


class CampaignMismatchError(QAPipelineError):
    """A call's language does not match its campaign's language."""

    code = "E004"

    def __init__(self, campaign: str, campaign_language: str, call_language: str) -> None:
        super().__init__(
            f"campaign {campaign!r} is a {campaign_language!r} campaign "
            f"but the call says language {call_language!r}"
        )


class TaskError(QAPipelineError):
    code = "E050"


class LabelsFileError(QAPipelineError):
    code = "E030"

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        super().__init__(f"{path}: " + "; ".join(problems))


class InputDirError(QAPipelineError):
    code = "E040"

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")


class OutputBusyError(QAPipelineError):
    """Another run is writing the same results file."""

    code = "E041"

    def __init__(self, path: str, holder: str) -> None:
        super().__init__(
            f"{path}: another run (process {holder}) is writing results here; wait for it to "
            "finish or give another --out folder"
        )


class AudioFileError(QAPipelineError):
    """A recording cannot be decoded, is empty or silent, or is not what the call needs."""

    code = "E060"

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        super().__init__(f"{path}: {problem}")


class CorpusError(QAPipelineError):
    """The utterance corpus (training data of the understanding heads) is malformed."""

    code = "E075"

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        super().__init__(f"{path}: " + "; ".join(problems))


class ModelNotFoundError(QAPipelineError):
    """An ASR or diarization model is not on disk and cannot be downloaded."""

    code = "E070"

    def __init__(self, model: str, problem: str, how: str) -> None:
        super().__init__(f"model {model!r}: {problem}. {how}")


class ModelIntegrityError(QAPipelineError):
    """A model's files (or the wheels they come from) differ from the sha256 models.yaml
    records: a corrupt download or a changed package."""

    code = "E072"

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        super().__init__(
            f"{path}: {problem}. Delete it and run `qa-pipeline models download` again; if it "
            "persists, the package changed and models.yaml must be updated deliberately"
        )


class DiarizationUnavailableError(QAPipelineError):
    """A mono recording needs speaker diarization, which is an optional extra."""

    code = "E071"

    def __init__(self, problem: str) -> None:
        super().__init__(
            f"mono recording needs speaker diarization: {problem}. Install it with "
            "`pip install 'qa-pipeline[diarization]'` (pyannote.audio) and give the pipeline "
            "with --diarization PATH_OR_HUB_ID; mono calls are never split by guesswork"
        )


class ReviewError(QAPipelineError):
    """A review action that cannot be applied (unknown finding, wrong state, not allowed)."""

    code = "E080"


class UserError(QAPipelineError):
    """A user that cannot be created or changed (bad role, missing team, weak password)."""

    code = "E081"


class ReviewSettingsError(QAPipelineError):
    """A review settings file with unknown keys or values of the wrong type."""

    code = "E082"

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        super().__init__(f"{path}: " + "; ".join(problems))


class CaseError(QAPipelineError):
    """An agent-case action that cannot be applied (unknown case, wrong state, too early to
    decide, not the case's agent, a callback to a do-not-call number)."""

    code = "E100"


class AgentLinkError(QAPipelineError):
    """A user that cannot be linked to an agent id (`users add --role agent --agent ID`)."""

    code = "E101"


class OptionsError(QAPipelineError):
    """Command-line options that do not go together; the message says which and why."""

    code = "E090"


class OptionValueError(QAPipelineError):
    """A command-line option whose value is malformed or names nothing that exists (a week,
    a month, an agent, an output file's format); the message says what was expected."""

    code = "E094"

    def __init__(self, option: str, value: str, problem: str) -> None:
        super().__init__(f"{option} {value}: {problem}")


class DatabaseError(QAPipelineError):
    """A database URL that cannot be parsed or opened (password hidden in the message)."""

    code = "E095"

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"database {url}: {problem}")


class MissingExtraError(QAPipelineError):
    """A feature whose packages are an optional extra (parquet, postgres, charts) that is not
    installed; the message names the extra to install."""

    code = "E091"

    def __init__(self, feature: str, extra: str) -> None:
        super().__init__(
            f"{feature} needs the optional extra {extra!r}: pip install 'qa-pipeline[{extra}]'"
        )

    @classmethod
    def check(cls, module: str, extra: str, feature: str) -> None:
        """Raise unless `module` (what the extra installs) can be imported."""
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise cls(feature, extra) from exc


class EvidenceError(QAPipelineError):
    """An evidence pack that cannot be made: no such call, a language or output file not
    offered, a blind call still hidden; the message names the call or file."""

    code = "E110"


class ApiError(QAPipelineError):
    """A JSON API request that cannot be answered (issue 14); `status` is its HTTP status and
    the API answers {"error": {"code", "message", "status"}}. Subclasses say why."""

    code = "E120"
    status = 400


class ApiAuthError(ApiError):
    """No API token, or one that is unknown, revoked or of a disabled user."""

    code = "E121"
    status = 401


class ApiForbiddenError(ApiError):
    """The token's user has a role that may not do this."""

    code = "E122"
    status = 403


class ApiNotFoundError(ApiError):
    """Nothing there within the user's scope (another team's call is not found, as on pages)."""

    code = "E123"
    status = 404


class ApiParameterError(ApiError):
    """A query parameter, path parameter or JSON body that is malformed or names nothing that
    exists; the message names it and lists the valid choices where there is a closed set."""

    code = "E124"
    status = 400


class ApiConflictError(ApiError):
    """A review action the finding's state does not allow (not queued, not confirmed, already
    disputed); the message is the review rule's own."""

    code = "E125"
    status = 409


class TokenError(QAPipelineError):
    """An API token that cannot be created or revoked (unknown user or token, bad label)."""

    code = "E126"


class QueueActionError(QAPipelineError):
    """A queue action that cannot be done; `key` names its text in the reader's language
    (review/i18n) and `params` fill it."""

    code = "E130"

    def __init__(self, message: str, key: str, **params: str) -> None:
        self.key = key
        self.params = params
        super().__init__(message)


class ClaimError(QueueActionError):
    """A claim or assignment that cannot be made: the call is not pending in the queue, another
    reviewer's claim on it has not expired, or the assignee is not an active QA lead or admin."""

    code = "E131"


class BulkActionError(QueueActionError):
    """A bulk action on the queue that cannot be applied: no call selected, an unknown action,
    or a selected call without the chosen finding."""

    code = "E132"


class SavedFilterError(QueueActionError):
    """A saved queue filter with a bad name (1-40 characters, no control characters) or one
    the user does not have."""

    code = "E133"


class SearchQueryError(QueueActionError):
    """A transcript search query that cannot be run (longer than the limit)."""

    code = "E134"
